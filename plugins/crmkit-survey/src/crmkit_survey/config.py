"""Configuration of the survey provider: who asks, the consent texts, SMTP, the secret.

Everything is a frozen value.  :meth:`SurveyConfig.from_toml` reads a TOML
file for the command line; secrets (the HMAC key, the SMTP password) may
come from the environment instead (``CRMKIT_SURVEY_SECRET``,
``CRMKIT_SURVEY_SMTP_PASSWORD``) so that they stay out of files.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import attrs

from crmkit.errors import ValidationError
from crmkit.messages import Lang
from crmkit.model import Contact

Security = Literal["none", "starttls", "ssl"]
SECURITIES: Final[tuple[Security, ...]] = ("none", "starttls", "ssl")
#: Countries whose contacts get German mail by default.
GERMAN_COUNTRIES: Final = frozenset({"DE", "AT", "CH", "LI"})
#: The shortest accepted HMAC key, in bytes.
MIN_SECRET_BYTES: Final = 32


def _security(value: object) -> Security:
    for choice in SECURITIES:
        if value == choice:
            return choice
    raise ValidationError.single(
        "smtp.security", "value.choice", value=value, choices=", ".join(SECURITIES)
    )


def _port(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
        raise ValidationError.single("smtp.port", "value.invalid", value=value, reason="no port")
    return value


def _ascii(field: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.isascii():
        # smtplib's AUTH sends ASCII only
        raise ValidationError.single(field, "value.invalid", value="…", reason="not ASCII")
    return value


def _username(value: object) -> str | None:
    return _ascii("smtp.username", value)


def _password(value: object) -> str | None:
    return _ascii("smtp.password", value)


@attrs.frozen(kw_only=True)
class SmtpConfig:
    """How mail goes out: host, port, ``security`` (``none``, ``starttls`` or
    ``ssl``), optional credentials, the envelope and ``From`` address, and
    ``cafile`` for a server whose certificate a private CA signed."""

    host: str = "127.0.0.1"
    port: int = attrs.field(default=25, converter=_port)
    security: Security = attrs.field(default="none", converter=_security)
    username: str | None = attrs.field(default=None, converter=_username)
    password: str | None = attrs.field(default=None, repr=False, converter=_password)
    sender: str = "consent@localhost"
    timeout: float = 30.0
    cafile: str | None = None


@attrs.frozen(kw_only=True)
class Controller:
    """Who asks (Art. 13 GDPR): shown in every mail and on the answer page."""

    name: str
    address: str = ""
    email: str = ""
    privacy_url: str = ""

    def line(self) -> str:
        """Name, address and e-mail in one line."""
        return ", ".join(p for p in (self.name, self.address, self.email) if p)


@attrs.frozen(kw_only=True)
class ConsentText:
    """One version of the consent text for a purpose, in German and English.

    The text is shown word for word on the answer page; its SHA-256 goes
    into the ledger with the answer.  Never change a version's wording:
    add a new version instead.
    """

    purpose: str
    version: str
    de: str
    en: str
    label_de: str = ""
    label_en: str = ""

    def text(self, lang: Lang) -> str:
        """The wording in *lang*."""
        return self.de if lang == "de" else self.en

    def label(self, lang: Lang) -> str:
        """A short name of the purpose in *lang* (the purpose itself by default)."""
        return (self.label_de if lang == "de" else self.label_en) or self.purpose


@attrs.frozen(kw_only=True)
class MailTemplate:
    """A mail template (:class:`string.Template` syntax) with an id and a version.

    Placeholders: ``$greeting``, ``$controller``, ``$controller_line``,
    ``$purpose``, ``$text``, ``$link``, ``$expires``, ``$privacy_url``.
    The id and version are recorded in the ledger with each mail sent.
    """

    id: str
    version: str
    subject: str
    body: str


def default_language(contact: Contact) -> Lang:
    """German or English for *contact*: a tag ``lang:en`` / ``lang:de`` decides,
    else the country of the first address (German-speaking → ``de``), else ``de``."""
    for tag in contact.tags:
        low = tag.lower().replace(" ", "")
        for prefix in ("lang:", "language:", "sprache:"):
            if low.startswith(prefix):
                return "en" if low.removeprefix(prefix) in ("en", "english", "englisch") else "de"
    if contact.addresses and contact.addresses[0].country not in GERMAN_COUNTRIES:
        return "en"
    return "de"


def _secret(value: object) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(raw, bytes) or len(raw) < MIN_SECRET_BYTES:
        raise ValidationError.single(
            "secret", "value.invalid", value="…",
            reason=f"at least {MIN_SECRET_BYTES} bytes of random data",
        )  # fmt: skip
    return raw


def _base_url(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError.single("base_url", "value.invalid", value=value, reason="no URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValidationError.single("base_url", "value.invalid", value=value, reason="no URL")
    return value.rstrip("/")


def _texts(value: object) -> tuple[ConsentText, ...]:
    items = tuple(value) if isinstance(value, (list, tuple)) else ()
    if not items or not all(isinstance(t, ConsentText) for t in items):
        raise ValidationError.single("texts", "value.required")
    return items


def _templates(value: object) -> Mapping[str, MailTemplate]:
    return dict(value) if isinstance(value, Mapping) else {}


@attrs.frozen(kw_only=True)
class SurveyConfig:
    """Everything the survey provider and the answer page need.

    * ``secret``: the HMAC-SHA256 key of the links (≥ 32 random bytes; keep
      it secret and stable — changing it invalidates every open link);
    * ``base_url``: where the answer app is reachable (``https://…/consent``);
    * ``valid_days``: how long a request link is valid (default: until the
      clarification policy closes the case); ``withdraw_valid_days`` for the
      withdrawal link;
    * ``record_ip`` / ``record_user_agent``: whether the answer's proof
      keeps them (switch off for data minimisation);
    * ``record_bounces``: a recipient the server refuses permanently (5xx)
      is also recorded as a hard bounce (``crm.bounces``): the address is
      marked undeliverable;
    * ``templates``: overrides keyed ``request.de``, ``reminder.en`` …;
    * ``language``: picks German or English per contact.
    """

    secret: bytes = attrs.field(converter=_secret, repr=False)
    base_url: str = attrs.field(converter=_base_url)
    controller: Controller
    texts: tuple[ConsentText, ...] = attrs.field(converter=_texts)
    smtp: SmtpConfig = attrs.field(factory=SmtpConfig)
    templates: Mapping[str, MailTemplate] = attrs.field(factory=dict, converter=_templates)
    valid_days: int | None = None
    withdraw_valid_days: int = 3650
    record_ip: bool = True
    record_user_agent: bool = True
    record_bounces: bool = True
    trust_forwarded_for: bool = False
    csrf_max_age_seconds: int = 3600
    language: Callable[[Contact], Lang] = default_language

    def text_for(self, purpose: str, version: str | None = None) -> ConsentText | None:
        """The consent text for *purpose* (of *version*; the last one listed by default)."""
        found = [t for t in self.texts if t.purpose == purpose]
        if version is not None:
            found = [t for t in found if t.version == version]
        return found[-1] if found else None

    def template(self, kind: str, lang: Lang) -> MailTemplate:
        """The mail template for *kind* (``request`` or ``reminder``) in *lang*."""
        from crmkit_survey.mail import DEFAULT_TEMPLATES

        key = f"{kind}.{lang}"
        return self.templates.get(key) or DEFAULT_TEMPLATES[key]

    @classmethod
    def from_toml(cls, path: str | Path, env: Mapping[str, str] | None = None) -> SurveyConfig:
        """Read a TOML file (see ``docs/survey.md``); secrets may come from *env*."""
        env = os.environ if env is None else env
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls.from_dict(data, env)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], env: Mapping[str, str]) -> SurveyConfig:
        """Build from plain data (the TOML structure); secrets may come from *env*."""
        smtp = dict(data.get("smtp", {}))
        if env.get("CRMKIT_SURVEY_SMTP_PASSWORD"):
            smtp["password"] = env["CRMKIT_SURVEY_SMTP_PASSWORD"]
        texts = [ConsentText(**t) for t in data.get("texts", [])]
        templates = {k: MailTemplate(**v) for k, v in data.get("templates", {}).items()}
        options = {k: data[k] for k in _OPTIONS if k in data}
        return cls(
            secret=env.get("CRMKIT_SURVEY_SECRET") or data.get("secret", ""),
            base_url=data.get("base_url", ""),
            controller=Controller(**data.get("controller", {"name": ""})),
            texts=texts,
            smtp=SmtpConfig(**smtp),
            templates=templates,
            **options,
        )


_OPTIONS: Final = (
    "valid_days",
    "withdraw_valid_days",
    "record_ip",
    "record_user_agent",
    "record_bounces",
    "trust_forwarded_for",
    "csrf_max_age_seconds",
)

__all__ = [
    "ConsentText",
    "Controller",
    "MailTemplate",
    "SmtpConfig",
    "SurveyConfig",
    "default_language",
]
