"""How :class:`~singletable.testing.LocalDynamoDB` decorates functions and classes.

Functions (sync or ``async def``) run inside a fresh context per call. A class
has its test-related methods wrapped, as moto's ``mock_aws`` does, with one
engine per *test*: the instance (unittest and pytest make one per test) keeps
the engine its first wrapped method started, so ``setUp``/``setup_method``,
the test method, ``tearDown``/``teardown_method`` and helper methods called
from them all see the same data, and the next test starts empty.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import unittest
from collections.abc import Callable
from typing import Any

__all__ = ["decorate_class", "decorate_function"]

_WRAPPED = "__singletable_local_dynamodb__"
_INSTANCE_ENGINE = "_singletable_engine"
_OPTIONAL_ARGUMENT = frozenset({"setup_method", "teardown_method"})


# A LocalDynamoDB (typed loosely: this module sits below singletable.testing).
_Manager = Any


def decorate_function(manager: _Manager, func: Callable[..., Any]) -> Callable[..., Any]:
    """A sync or async function that runs inside a fresh context per call."""
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with manager._recreate_cm():
                return await func(*args, **kwargs)

        wrapper: Callable[..., Any] = run_async
    else:

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with manager._recreate_cm():
                return func(*args, **kwargs)

        wrapper = run
    setattr(wrapper, _WRAPPED, True)
    return wrapper


def _method(manager: _Manager, func: Callable[..., Any]) -> Callable[..., Any]:
    """A method that runs inside a context on its instance's engine (started on first use)."""

    def enter(instance: Any) -> _Manager:
        engine = getattr(instance, "__dict__", {}).get(_INSTANCE_ENGINE)
        if engine is not None:
            return manager._with_engine(engine)
        fresh = manager._recreate_cm()
        started = fresh.__enter__()
        with contextlib.suppress(AttributeError, TypeError):  # no __dict__: this call only
            instance.__dict__[_INSTANCE_ENGINE] = started
        return _Entered(fresh)

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            with enter(self):
                return await func(self, *args, **kwargs)

        wrapper: Callable[..., Any] = run_async
    elif func.__name__ in _OPTIONAL_ARGUMENT and func.__code__.co_argcount == 2:
        # pytest passes ``method`` to setup_method/teardown_method only when the
        # function's code takes it (co_argcount): keep the count.
        @functools.wraps(func)
        def run_with(self: Any, method: Any) -> Any:
            with enter(self):
                return func(self, method)

        wrapper = run_with
    elif func.__name__ in _OPTIONAL_ARGUMENT:

        @functools.wraps(func)
        def run_without(self: Any) -> Any:
            with enter(self):
                return func(self)

        wrapper = run_without
    else:

        @functools.wraps(func)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            with enter(self):
                return func(self, *args, **kwargs)

        wrapper = run
    setattr(wrapper, _WRAPPED, True)
    return wrapper


class _Entered:
    """An already-entered context: exiting it exits the context."""

    def __init__(self, manager: _Manager) -> None:
        self._manager = manager

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._manager.__exit__(*exc)


def decorate_class(manager: _Manager, cls: type) -> type:
    """Wrap the class's public methods (its own and inherited ones), as moto does.

    Every public plain function along the MRO (not ``unittest.TestCase``'s or
    ``object``'s), sync or async: test methods, ``setUp``/``tearDown``,
    ``asyncSetUp``/``asyncTearDown``, ``setup_method``/``teardown_method`` and
    helpers. Static and class methods (``setUpClass``), properties, nested
    classes, pytest fixtures (not plain functions) and names starting with
    ``_`` are left alone.
    """
    skip = (unittest.TestCase, unittest.IsolatedAsyncioTestCase, object)
    seen: set[str] = set()
    for klass in cls.__mro__:
        if klass in skip:
            continue
        for name, value in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            if getattr(value, _WRAPPED, False):
                continue
            setattr(cls, name, _method(manager, value))
    return cls
