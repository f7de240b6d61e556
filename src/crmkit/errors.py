"""One error hierarchy under :class:`CrmkitError`, and validation findings.

Every error has a stable ``code`` (a key of :mod:`crmkit.messages`) and the
named parameters of its message, so it can be shown in English
(``str(error)``) or German (``error.message("de")``) and matched by code in a
host application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from crmkit.messages import Lang, render

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


def _freeze_params(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen(kw_only=True)
class Finding:
    """One problem with one field: what, where, how bad, in both languages.

    ``field`` is a dotted path into the entity (``emails.0``, ``name``);
    ``code`` a message code; ``params`` the values its message names.
    """

    field: str
    code: str
    params: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_freeze_params, eq=False, hash=False
    )
    severity: Severity = "error"
    contact_id: str | None = None
    #: A message code for what to do about it (``action.add_decision_maker`` …).
    action: str | None = None

    def message(self, lang: Lang = "en") -> str:
        """The human message in *lang* (``"en"`` or ``"de"``)."""
        return render(self.code, lang, field=self.field, **self.params)

    def suggestion(self, lang: Lang = "en") -> str:
        """The suggested action in *lang*, ``""`` when there is none."""
        return render(self.action, lang, field=self.field, **self.params) if self.action else ""

    def at(self, prefix: str) -> Finding:
        """The same finding with its field path nested under *prefix*."""
        path = f"{prefix}.{self.field}" if self.field else prefix
        return attrs.evolve(self, field=path)

    def located(self, lang: Lang = "en") -> str:
        """``field: message`` in *lang*; just the message when it names the field first."""
        text = self.message(lang)
        if not self.field or text.startswith(self.field):
            return text
        return f"{self.field}: {text}"

    def __str__(self) -> str:
        return self.located()


class CrmkitWarning(UserWarning):
    """Warnings crmkit itself issues (errors in crmkit's own tests)."""


class CrmkitError(Exception):
    """Base class of every error crmkit raises on purpose."""

    code: str = "error"

    def __init__(self, detail: str = "", /, *, code: str | None = None, **params: Any) -> None:
        self.params: dict[str, Any] = {"detail": detail, **params} if detail else dict(params)
        if code is not None:
            self.code = code
        super().__init__(self.message())

    def message(self, lang: Lang = "en") -> str:
        """The human message in *lang*."""
        return render(self.code, lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class ValidationError(CrmkitError, ValueError):
    """Bad input: carries the :class:`Finding` list that says what and where."""

    code: str = "validation"

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        super().__init__()

    def message(self, lang: Lang = "en") -> str:
        """Every finding as ``field: message`` in *lang* (the field once, not twice)."""
        detail = "; ".join(f.located(lang) for f in self.findings)
        return render(self.code, lang, detail=detail)

    @classmethod
    def single(cls, field: str, code: str, **params: Any) -> ValidationError:
        """A validation error with one finding."""
        return cls([Finding(field=field, code=code, params=params)])

    def at(self, prefix: str) -> ValidationError:
        """The same error with every field path nested under *prefix*."""
        return ValidationError(f.at(prefix) for f in self.findings)


class NotFoundError(CrmkitError, LookupError):
    """No entity with that id or number."""

    code: str = "not_found"


class ConflictError(CrmkitError):
    """A stale write: the stored version differs from the one being updated."""

    code: str = "conflict"


class RetentionHoldError(CrmkitError):
    """Data cannot be erased yet because a retention period holds it."""

    code: str = "retention_hold"


class ConsentError(CrmkitError):
    """An action needs a consent that is missing or withdrawn."""

    code: str = "consent"


class PermissionDenied(CrmkitError):  # noqa: N818 - public name fixed by the design
    """The actor may not do this."""

    code: str = "permission_denied"


class PluginError(CrmkitError):
    """A plugin failed to load or broke a hook's contract."""

    code: str = "plugin"


class StoreError(CrmkitError):
    """The store cannot do what was asked (bad URL, corrupt file, closed …)."""

    code: str = "store"


__all__ = [
    "SEVERITIES",
    "ConflictError",
    "ConsentError",
    "CrmkitError",
    "CrmkitWarning",
    "Finding",
    "NotFoundError",
    "PermissionDenied",
    "PluginError",
    "RetentionHoldError",
    "Severity",
    "StoreError",
    "ValidationError",
]
