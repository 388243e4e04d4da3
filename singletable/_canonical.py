"""The mark of an item built by the codec, which the local engine need not re-check.

A PutItem's item normally arrives as data from anywhere (JSON, a boto3 call, a
user's dict), so the engine validates every value and rebuilds the item in its
canonical form (:func:`singletable._values.validate_item_sized`). An item the
modelling layer's codec built is canonical by construction: every AttributeValue
is a fresh one-member dict of a known type, strings are plain ``str``, numbers are
the text :func:`~singletable._values.canonical_number` gives, sets are non-empty
lists of distinct members, and nothing in it is shared with the caller's objects.
The put flow hands such an item over as a :class:`CanonicalItem`, and the local
engine then only checks what construction cannot rule out (the UTF-8 form of
non-ASCII text, nesting depth, attribute-name and item sizes, the key: see
``singletable/backends/local/_trusted.py``), taking the general path for anything
unusual, so that errors and stored items are the general path's.

Other backends see an ordinary dict. A backend or wrapper must not change a request
in place (the :mod:`singletable.backends.base` contract); ``db.explain`` returns
plain dicts, never this class.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CanonicalItem"]


class CanonicalItem(dict[str, Any]):
    """An item the codec built (see the module docstring); otherwise a plain dict."""

    __slots__ = ()
