"""A bank transfer: one transaction, a balance condition, and a record of the transfer.

Run it with ``python examples/bank_transfer.py`` (the embedded engine, in memory).

A transfer is three writes that happen together or not at all:

1. debit the source account, only if its balance covers the amount
   (``Account.balance >= amount``, checked by DynamoDB in the transaction);
2. credit the destination account (which must exist: an update in a
   transaction never creates an item);
3. record the transfer in the source account's history (a create-only put).

The transfer's id is the transaction's ``token`` (DynamoDB's ClientRequestToken),
which makes a retry safe: the same request sent again with the same token,
within ten minutes, succeeds without moving the money twice. The same token with
other parameters is refused (``IdempotentParameterMismatchException``, a
:class:`~singletable.RequestError`).

When DynamoDB cancels the transaction, :class:`~singletable.TransactionCanceledError`
says which action failed and why (``error.reasons``, one per action, in order).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from singletable import DB, Entity, Keys, Query, Table, TransactionCanceledError, Update

bank = Table("bank")
OPENED = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


class Account(Entity, table=bank):
    account_id: str
    owner: str
    balance: Decimal

    keys = Keys(pk="ACCOUNT#{account_id}", sk="ACCOUNT")


class Transfer(Entity, table=bank):
    source: str
    transfer_id: str
    destination: str
    amount: Decimal
    at: datetime

    keys = Keys(pk="ACCOUNT#{source}", sk="TRANSFER#{at}#{transfer_id}")
    history = Query(reverse=True)  # an account's outgoing transfers, newest first


def transfer(
    db: DB, transfer_id: str, source: str, destination: str, amount: Decimal, at: datetime
) -> None:
    """Move ``amount`` from ``source`` to ``destination``, or nothing at all.

    A retry must send the same request: DynamoDB refuses a token used again with
    other parameters, so the caller fixes ``at`` when it first makes the transfer.

    Raises:
        TransactionCanceledError: the balance is too low, an account is missing, or
            the transfer was already recorded under another token.
    """
    record = Transfer(
        source=source,
        transfer_id=transfer_id,
        destination=destination,
        amount=amount,
        at=at,
    )
    # --8<-- [start:transfer]
    with db.transaction(token=transfer_id) as tx:
        tx.update(
            Account,
            Update().add(Account.balance, -amount),
            condition=Account.balance >= amount,
            account_id=source,
        )
        tx.update(Account, Update().add(Account.balance, amount), account_id=destination)
        tx.put(record, mode="create")
    # --8<-- [end:transfer]


def balances(db: DB, *account_ids: str) -> dict[str, str]:
    """The balances of the accounts, read together (one consistent snapshot)."""
    found = db.get_together([(Account, {"account_id": a}) for a in account_ids])
    return {a: f"{account.balance:.2f}" for a, account in zip(account_ids, found, strict=True)}


def try_transfer(
    db: DB, transfer_id: str, source: str, destination: str, amount: str
) -> tuple[str, str]:
    """Run :func:`transfer`; the outcome in a line, and why it was refused (or "")."""
    at = OPENED + timedelta(minutes=int(transfer_id[1:]))
    try:
        transfer(db, transfer_id, source, destination, Decimal(amount), at)
    except TransactionCanceledError as error:
        codes = [reason["Code"] for reason in error.reasons]
        refused = f"{transfer_id}: {source} -> {destination} {amount} refused, reasons {codes}"
        return refused, str(error)
    return f"{transfer_id}: {source} -> {destination} {amount} done", ""


def main() -> dict[str, Any]:
    """Open two accounts, transfer, overdraw, retry, print the balances after each step."""
    seen: dict[str, Any] = {}
    with DB() as db:
        db.create_table(bank)
        db.put(Account(account_id="A-1", owner="Ada", balance=Decimal("100.00")))
        db.put(Account(account_id="B-2", owner="Bo", balance=Decimal("20.00")))
        print("opening balances:", balances(db, "A-1", "B-2"))

        steps = [
            ("t1", "A-1", "B-2", "30.00"),  # fine: 100 covers 30
            ("t2", "A-1", "B-2", "500.00"),  # overdraft: the debit's condition fails
            ("t3", "B-2", "Z-9", "5.00"),  # no account Z-9: the credit fails
            ("t1", "A-1", "B-2", "30.00"),  # a retry of t1 (same token): not applied again
        ]
        outcomes = []
        for step in steps:
            outcome, why = try_transfer(db, *step)
            outcomes.append(outcome)
            print(f"{outcome}; balances {balances(db, 'A-1', 'B-2')}")
            if why:
                print(f"  {why}")
        seen["outcomes"] = outcomes
        seen["balances"] = balances(db, "A-1", "B-2")

        history = db.query(Transfer.history, source="A-1").all()
        print("A-1's transfers:", [(t.transfer_id, t.destination, str(t.amount)) for t in history])
        seen["history"] = [t.transfer_id for t in history]

        # What would be sent, without sending it: the transaction's request.
        tx = db.transaction(token="t4")
        tx.update(
            Account,
            Update().add(Account.balance, Decimal("-1")),
            condition=Account.balance >= Decimal("1"),
            account_id="A-1",
        )
        operation, request = tx.explain()
        debit = request["TransactItems"][0]["Update"]
        print(f"{operation} debit: {debit['UpdateExpression']} IF {debit['ConditionExpression']}")
        seen["explained"] = debit
    return seen


if __name__ == "__main__":
    main()
