"""A put's own condition (mode and version check), rendered once per class and shape,
is what rendering it in full gives, for every mode and version, on every call."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from singletable import Entity, Keys, Table, Version
from singletable import _requests as ops
from singletable.conditions import attribute, expression_parameters
from singletable.updates import Update

app = Table("put_conditions")


class Doc(Entity, table=app):
    owner: str
    version: Annotated[int, Version] = 0

    keys = Keys(pk="D#{owner}", sk="DOC")


class Note(Entity, table=app):
    owner: str

    keys = Keys(pk="N#{owner}", sk="NOTE")


def _general(cls: type[Entity], mode: Any, version: Any) -> dict[str, Any]:
    combined = ops._write_condition(cls.__singletable__, mode, version, None)
    return {} if combined is None else expression_parameters(condition=combined)


@pytest.mark.parametrize("mode", ["upsert", "create", "replace"])
def test_the_rendered_once_condition_is_the_full_rendering(mode: Any) -> None:
    for _ in range(2):  # the first call renders and keeps it, the second reuses it
        for version in (None, 0, 1, 7, -3, 10**37, 10**38, True):
            for cls in (Doc, Note):
                model = cls.__singletable__
                if cls is Note and version is not None:
                    continue  # (no version field: the put passes None)
                own = ops._own_condition(model, mode, version)
                if own is ops._GENERAL:  # not a plain int: rendered in full
                    assert type(version) is not int or abs(version) >= 10**38
                    continue
                assert (own or {}) == _general(cls, mode, version), (cls, mode, version)


def test_each_call_gets_its_own_maps() -> None:
    first = ops._own_condition(Doc.__singletable__, "create", 3)
    second = ops._own_condition(Doc.__singletable__, "create", 4)
    assert first is not None and second is not None
    assert first["ExpressionAttributeValues"] != second["ExpressionAttributeValues"]
    first["ExpressionAttributeNames"]["#x"] = "changed"
    third = ops._own_condition(Doc.__singletable__, "create", 3)
    assert third == {**first, "ExpressionAttributeNames": second["ExpressionAttributeNames"]}


def test_a_callers_condition_is_rendered_with_the_writes_own() -> None:
    stored, request = ops.put_request(Doc(owner="o", version=2), "replace", attribute("x") == 1)
    combined = ops._write_condition(
        Doc.__singletable__, "replace", 2, attribute("x") == 1
    )
    assert combined is not None
    expected = expression_parameters(condition=combined)
    assert {k: request[k] for k in expected} == expected
    assert stored.version == 3


class Card(Entity, table=app):
    owner: str
    title: str = ""
    count: int = 0
    tags: set[str] = set()
    version: Annotated[int, Version] = 0

    keys = Keys(pk="C#{owner}", sk="CARD")


@pytest.mark.parametrize(
    "changes",
    [
        Update().set(Card.title, "t"),
        Update().set(Card.title, "t").add(Card.count, 2),
        Update().remove(Card.title),
        Update().add(Card.tags, {"a"}).set(Card.count, Card.count + 1),
        Update().set(Card.version, 5),
    ],
)
def test_an_updates_exists_condition_rendered_once_is_the_full_rendering(
    changes: Update,
) -> None:
    for _ in range(2):
        body = ops.update_body(Card, {"owner": "o"}, changes, None)
        final = changes if "version" in changes.fields else changes.add(Card.version, 1)
        expected = expression_parameters(
            update=final, condition=attribute(Card.__singletable__.table.primary.pk).exists()
        )
        assert {k: v for k, v in body.items() if k not in ("TableName", "Key")} == expected
        assert list(body)[2:] == list(expected)
