"""The permission guard every facade method wears (see :func:`guarded`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

R = TypeVar("R")
P = ParamSpec("P")
S = TypeVar("S")


def guarded(
    action: str, resource: str
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """Mark a facade method: check *action* on *resource* before running it.

    Works on the :class:`crmkit.CRM` itself and on its sub-APIs (objects with
    a ``_crm`` attribute).  A denied call raises
    :class:`crmkit.PermissionDenied`, leaves an audit record of the attempt and
    touches nothing else.
    """

    def decorate(fn: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        @functools.wraps(fn)
        def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            crm: Any = getattr(self, "_crm", self)
            crm.require(action, resource)
            return fn(self, *args, **kwargs)

        wrapper.__crmkit_guard__ = (action, resource)  # type: ignore[attr-defined]
        return wrapper

    return decorate


__all__ = ["guarded"]
