"""A query's build shortcuts give what their general forms give.

``_queries._scope_json`` writes the cursor scope of all-string key values itself instead of
through ``json.JSONEncoder(sort_keys=True, default=str)``; ``_queries.replaced_spec`` copies a
query's spec with changed options instead of ``dataclasses.replace``. Both are
compared with the general form, and cursors still bind to their query.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from singletable import DB, Entity, Keys, Table
from singletable._queries import _SCOPE_JSON, _scope_json
from singletable._queries import replaced_spec as _replaced
from singletable.errors import CursorError
from singletable.patterns import Query

_TEXT = st.text(st.sampled_from('ab"\\\n\t\x00é\ud800\U0001f600#|'), max_size=6)
_VALUE = st.one_of(
    _TEXT,
    st.integers(),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.tuples(_TEXT, _TEXT),
    _TEXT.map(lambda t: type("Sub", (str,), {})(t)),  # a str subclass: the general path
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _VALUE, max_size=4))
def test_the_scope_text_is_the_encoders(values: dict[str, Any]) -> None:
    assert _scope_json(values) == _SCOPE_JSON(values)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_TEXT, _TEXT, max_size=4))
def test_the_scope_text_of_strings_is_the_encoders(values: dict[str, str]) -> None:
    assert _scope_json(values) == _SCOPE_JSON(values)


app = Table("query_build")


class Event(Entity, table=app):
    owner: str
    at: datetime
    name: str

    keys = Keys(pk="OWNER#{owner}", sk="AT#{at}")
    by_owner = Query()


def test_options_copy_the_spec_as_replace_does() -> None:
    db = DB()
    query = db.query(Event.by_owner, owner="o")
    spec = query._spec
    for changes in ({"limit": 3}, {"page_size": 2, "reverse": True}, {"cursor": "c"}, {}):
        copied = _replaced(spec, changes)
        assert copied == dataclasses.replace(spec, **changes)
        assert copied is not spec and type(copied) is type(spec)
    assert spec == dataclasses.replace(spec)  # the original is unchanged
    limited = query.limit(3).page_size(2).reverse()
    assert (limited._spec.limit, limited._spec.page_size, limited._spec.reverse) == (3, 2, True)
    assert query._spec.limit is None


@pytest.mark.parametrize("owner", ["o", 'q"uote', "é"])
def test_cursors_stay_bound_to_their_key_values(owner: str) -> None:
    db = DB()
    db.create_table(app)
    for n in range(3):
        db.put(Event(owner=owner, at=datetime(2026, 1, 1, n), name=f"e{n}"))
        db.put(Event(owner="other", at=datetime(2026, 1, 1, n), name=f"e{n}"))
    page = db.query(Event.by_owner, owner=owner).page_size(2).page()
    assert page.cursor is not None
    rest = db.query(Event.by_owner, owner=owner).after(page.cursor).all()
    assert [e.name for e in page.items + rest] == ["e0", "e1", "e2"]
    with pytest.raises(CursorError):
        db.query(Event.by_owner, owner="other").after(page.cursor).all()
