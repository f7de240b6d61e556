"""Configuration of the Microsoft 365 sync: tenant, app, secret, mailboxes, folder, filter, fields.

:meth:`M365Config.from_toml` reads a TOML file (``CRMKIT_M365_CONFIG`` names
it for the command line)::

    tenant_id = "00000000-0000-0000-0000-000000000000"
    client_id = "11111111-1111-1111-1111-111111111111"
    secret_file = "/run/secrets/crmkit-m365"     # or env CRMKIT_M365_SECRET
    mailboxes = ["vertrieb@firma.de", "anna.schmidt@firma.de"]
    folder = "CRM"

    [filter]
    tags = ["kunde"]
    relationships = ["customer", "lead"]

    [fields]
    job_title = ["both", "crm_wins"]
    department = "crm_to_remote"

The secret comes from the environment variable ``CRMKIT_M365_SECRET`` or a
file (``secret_file``); it is never part of the ``repr`` and never logged.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from crmkit.errors import ValidationError
from crmkit.sync import DEFAULT_FIELD_TABLE, FieldTable, SyncFilter

SECRET_VARIABLE: Final = "CRMKIT_M365_SECRET"
CONFIG_VARIABLE: Final = "CRMKIT_M365_CONFIG"


def _required(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single(field, "value.required")
    return value.strip()


def _mailboxes(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValidationError.single("mailboxes", "value.required")
    out = tuple(_required(f"mailboxes.{i}", v) for i, v in enumerate(value))
    if len({m.lower() for m in out}) != len(out):
        raise ValidationError.single(
            "mailboxes", "value.invalid", value=", ".join(out), reason="a mailbox is listed twice"
        )
    return out


def _tenant(value: object) -> str:
    return _required("tenant_id", value)


def _client(value: object) -> str:
    return _required("client_id", value)


def _secret(value: object) -> str:
    return _required("secret", value)


def _folder(value: object) -> str:
    return _required("folder", value)


@attrs.frozen(kw_only=True)
class M365Config:
    """What the sync needs (see the module docstring); ``secret`` is hidden from ``repr``."""

    tenant_id: str = attrs.field(converter=_tenant)
    client_id: str = attrs.field(converter=_client)
    secret: str = attrs.field(repr=False, converter=_secret)
    mailboxes: tuple[str, ...] = attrs.field(converter=_mailboxes)
    folder: str = attrs.field(default="CRM", converter=_folder)
    where: SyncFilter = attrs.field(factory=SyncFilter)
    table: FieldTable = DEFAULT_FIELD_TABLE
    base_url: str = "https://graph.microsoft.com/v1.0"
    authority: str = "https://login.microsoftonline.com"

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        base: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> M365Config:
        """The configuration in parsed TOML *data* (secret from the environment or a file)."""
        env = os.environ if environ is None else environ
        secret = env.get(SECRET_VARIABLE) or data.get("secret")
        if not secret and data.get("secret_file"):
            path = Path(str(data["secret_file"]))
            if base is not None and not path.is_absolute():
                path = base / path
            try:
                secret = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValidationError.single(
                    "secret_file",
                    "value.invalid",
                    value=str(path),
                    reason=exc.strerror or "unreadable",
                ) from None
        if not secret:
            raise ValidationError.single(
                "secret", "value.invalid", value="", reason=f"set {SECRET_VARIABLE} or secret_file"
            )
        flt = data.get("filter") or {}
        if not isinstance(flt, Mapping):
            raise ValidationError.single(
                "filter", "value.type", expected="table", actual=type(flt).__name__
            )
        known = {"tags", "relationships", "owners", "kinds", "include_archived", "exclude_objected"}
        unknown = set(flt) - known
        if unknown:
            raise ValidationError.single(
                "filter",
                "value.invalid",
                value=", ".join(sorted(unknown)),
                reason="unknown filter keys",
            )
        fields = data.get("fields") or {}
        if not isinstance(fields, Mapping):
            raise ValidationError.single(
                "fields", "value.type", expected="table", actual=type(fields).__name__
            )
        rules = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        return cls(
            tenant_id=data.get("tenant_id"),
            client_id=data.get("client_id"),
            secret=secret,
            mailboxes=data.get("mailboxes"),
            folder=data.get("folder", "CRM"),
            where=SyncFilter(**flt),
            table=DEFAULT_FIELD_TABLE.with_rules(rules) if rules else DEFAULT_FIELD_TABLE,
            base_url=str(data.get("base_url") or "https://graph.microsoft.com/v1.0"),
            authority=str(data.get("authority") or "https://login.microsoftonline.com"),
        )

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> M365Config:
        """Read the configuration from a TOML file."""
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError.single(
                "config", "value.invalid", value=str(file), reason=str(exc)
            ) from None
        return cls.from_mapping(data, base=file.parent)


__all__ = ["CONFIG_VARIABLE", "SECRET_VARIABLE", "M365Config"]
