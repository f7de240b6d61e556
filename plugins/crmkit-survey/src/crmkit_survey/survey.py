"""The survey provider: sends the request and reminder mails, checks links, records answers.

Everything the plugin knows is in the consent ledger: the ``requested``
event (from the core), a ``sent`` or ``send_failed`` event per mail, and
the answer (``granted`` / ``declined``, later maybe ``withdrawn``) with the
request id.  The plugin keeps no table of its own; a link is single use
because the ledger already holds an answer for its request.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import threading
import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.consent import ConsentEvent, case, state, text_sha256
from crmkit.errors import CrmkitError, NotFoundError
from crmkit.greeting import greeting
from crmkit.messages import Lang
from crmkit.model import Contact
from crmkit_survey import messages as _messages  # noqa: F401  (registers the codes)
from crmkit_survey.config import ConsentText, SurveyConfig
from crmkit_survey.mail import RenderedMail, build_message, deliver, render_mail
from crmkit_survey.tokens import Action, Claims, TokenError, sign, verify

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM
    from crmkit_survey.web import SurveyApp

#: The provider name the plugin registers (``crm.consents.request(..., provider="survey")``).
PROVIDER = "survey"
#: The channel of answers recorded through the answer page.
CHANNEL = "survey"
_SURVEYS: weakref.WeakKeyDictionary[Any, Survey] = weakref.WeakKeyDictionary()


def clean_line(value: object, limit: int = 480) -> str:
    """*value* as one printable line of at most *limit* characters (for the ledger)."""
    text = "".join(
        " " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in str(value)
    )
    return " ".join(text.split())[:limit]


@attrs.frozen(kw_only=True)
class Pending:
    """A link that was checked: the request it belongs to and what to show."""

    claims: Claims
    contact: Contact
    request: ConsentEvent
    text: ConsentText
    address: str | None
    lang: Lang


class Survey:
    """The survey provider bound to one CRM (see :func:`configure`)."""

    def __init__(self, crm: CRM, config: SurveyConfig, lock: threading.RLock | None = None) -> None:
        self.crm = crm
        self.config = config
        #: Serialises check-and-record, so two clicks cannot both answer.
        self.lock = lock or threading.RLock()

    # -- links -------------------------------------------------------------------------
    def claims(self, request: ConsentEvent, version: str, action: Action = "answer") -> Claims:
        """What the link of *request* is bound to (expiring with the case by default)."""
        if action == "answer":
            days = self.config.valid_days
            if days is None:
                days = self.crm.consents.policy.close_after_days
            start = request.at
        else:
            days, start = self.config.withdraw_valid_days, self.crm.now()
        return Claims(
            action=action, request_id=request.request_id or "", contact_id=request.contact_id,
            purpose=request.purpose, text_version=version,
            expires=start + dt.timedelta(days=days),
        )  # fmt: skip

    def link(self, claims: Claims) -> str:
        """The personal URL for *claims*."""
        prefix = "a" if claims.action == "answer" else "w"
        return f"{self.config.base_url}/{prefix}/{sign(self.config.secret, claims)}"

    # -- sending -----------------------------------------------------------------------
    def request(
        self, contacts: Contact | str | Sequence[Contact | str], purpose: str, *,
        version: str | None = None,
    ) -> list[ConsentEvent]:  # fmt: skip
        """Ask *contacts* for consent to *purpose*: one ``requested`` event and one mail each.

        The consent text (of *version*, the newest by default) is recorded
        with its version and SHA-256 in the language each contact gets.  A
        mail that cannot be delivered is recorded as ``send_failed`` and shows
        on the worklist; the case stays open.  One transaction.
        """
        text = self._text(purpose, version)
        refs = [contacts] if isinstance(contacts, (Contact, str)) else list(contacts)
        crm = self.crm
        out: list[ConsentEvent] = []
        with crm.transaction():
            for ref in refs:
                contact = crm.contacts.get(ref)
                out += crm.consents.request(
                    contact, purpose, channel="email", source=f"survey {self.config.base_url}",
                    text=text.text(self.config.language(contact)), text_version=text.version,
                    provider=PROVIDER,
                )  # fmt: skip
        return out

    def _text(self, purpose: str, version: str | None) -> ConsentText:
        text = self.config.text_for(purpose, version)
        if text is None:
            raise CrmkitError(code="survey.no_text", purpose=purpose, version=version or "—")
        return text

    def _request_of(self, contact: Contact, event: ConsentEvent) -> ConsentEvent:
        if event.kind == "requested":
            return event
        for e in reversed(self.crm.consents.events(contact)):
            if e.kind == "requested" and e.request_id == event.request_id:
                return e
        raise NotFoundError(kind="consent request", key=event.request_id or "")

    def send(self, contact: Contact, event: ConsentEvent, reminder: bool) -> ConsentEvent:
        """Deliver the request (or a reminder) for *event*; returns the ``sent`` or
        ``send_failed`` event recorded as proof."""
        crm, config = self.crm, self.config
        request = self._request_of(contact, event)
        text = self._text(request.purpose, request.text_version)
        lang = config.language(contact)
        template = config.template("reminder" if reminder else "request", lang)
        address = next((e.address for e in contact.emails if not e.undeliverable), None)
        claims = self.claims(request, text.version)
        expires = claims.expires.astimezone(crm.zone).strftime("%d.%m.%Y" if lang == "de" else
                                                                "%Y-%m-%d")  # fmt: skip
        mail = render_mail(template, {
            "greeting": greeting(contact, lang=lang), "controller": config.controller.name,
            "controller_line": config.controller.line(), "purpose": text.label(lang),
            "text": text.text(lang), "link": self.link(claims), "expires": expires,
            "privacy_url": config.controller.privacy_url or "—",
        })  # fmt: skip
        proof: dict[str, Any] = {
            "request_id": request.request_id, "channel": "email", "text": _proof_text(mail),
            "text_version": f"{template.id} v{template.version}; {text.purpose} {text.version}",
            "contact_point": address, "note": "reminder" if reminder else "request",
        }  # fmt: skip
        smtp = config.smtp
        if address is None:
            return crm.consents.record(contact, request.purpose, "send_failed",
                                       source="no deliverable e-mail address", **proof)  # fmt: skip
        message = build_message(mail, smtp=smtp, sender_name=config.controller.name, to=address,
                                date=crm.now())  # fmt: skip
        source = clean_line(f"smtp {smtp.host}:{smtp.port} {message['Message-ID']}")
        try:
            deliver(smtp, message)
        except (smtplib.SMTPException, OSError) as exc:
            proof["note"] = clean_line(f"{proof['note']}: {type(exc).__name__}: {exc}")
            failed = crm.consents.record(contact, request.purpose, "send_failed", source=source,
                                         **proof)  # fmt: skip
            self._hard_bounce(address, exc)
            return failed
        return crm.consents.record(contact, request.purpose, "sent", source=source, **proof)

    def _hard_bounce(self, address: str, exc: Exception) -> None:
        """A permanent refusal (5xx) of *address* is a hard bounce for the core: the
        address is marked undeliverable and the bounce goes on the worklist."""
        crm = self.crm
        if not (self.config.record_bounces and isinstance(exc, smtplib.SMTPRecipientsRefused)):
            return
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes) and crm.allowed("update", "contact"):
            crm.bounces.record(address, "hard", detail=clean_line(f"crmkit-survey: {exc}"))

    # -- answers -----------------------------------------------------------------------
    def check(self, token: str, action: Action) -> Pending:
        """The request behind a genuine, unused, unexpired *token*; :class:`TokenError` else."""
        crm = self.crm
        claims = verify(self.config.secret, token, now=crm.now())
        if claims.action != action:
            raise TokenError(code="survey.token.invalid")
        try:
            contact = crm.contacts.get(claims.contact_id)
        except CrmkitError as exc:
            raise TokenError(code="survey.token.invalid") from exc
        events = crm.consents.events(contact)
        request = next((e for e in events if e.kind == "requested"
                        and e.request_id == claims.request_id), None)  # fmt: skip
        text = self.config.text_for(claims.purpose, claims.text_version)
        if (request is None or request.purpose != claims.purpose
                or request.contact_id != claims.contact_id or text is None):  # fmt: skip
            raise TokenError(code="survey.token.invalid")
        related = [e for e in events if e.request_id == claims.request_id]
        address = next((e.contact_point for e in reversed(related) if e.kind == "sent"), None)
        if action == "answer":
            if any(e.kind in ("granted", "declined") for e in related):
                raise TokenError(code="survey.token.used")
            found = case(events, claims.purpose, crm.consents.policy)
            if found is None or found.request_id != claims.request_id or found.stage != "open":
                raise TokenError(code="survey.token.expired")
        else:
            if any(e.kind == "withdrawn" for e in related):
                raise TokenError(code="survey.token.used")
            current = state(events, claims.purpose, address)
            grants = [e for e in current.events if e.kind == "granted"]
            if current.status != "granted" or grants[-1].request_id != claims.request_id:
                raise TokenError(code="survey.token.used")
        return Pending(claims=claims, contact=contact, request=request, text=text,
                       address=address, lang=self.config.language(contact))  # fmt: skip

    def _proof(
        self, pending: Pending, lang: Lang, ip: str | None, agent: str | None
    ) -> dict[str, Any]:
        return {
            "at": self.crm.now(), "channel": CHANNEL,
            "source": f"{self.config.base_url} (request {pending.claims.request_id})",
            "text": pending.text.text(lang), "text_version": pending.text.version,
            "contact_point": pending.address,
            "ip": clean_line(ip, 100) or None if self.config.record_ip and ip else None,
            "user_agent": clean_line(agent) or None
            if self.config.record_user_agent and agent else None,
        }  # fmt: skip

    def answer(
        self, token: str, answer: str, *, lang: Lang | None = None, ip: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[ConsentEvent, Pending]:  # fmt: skip
        """Record *answer* (``granted`` or ``declined``) for the request of *token*.

        The proof: the time, the text shown (in *lang*) with its version and
        SHA-256, the address asked, and IP and user agent as configured.
        """
        with self.lock, self.crm.transaction():
            pending = self.check(token, "answer")
            shown = lang or pending.lang
            event = self.crm.consents.record_answer(
                pending.contact, pending.claims.purpose, answer,
                request_id=pending.claims.request_id,
                **self._proof(pending, shown, ip, user_agent),
            )  # fmt: skip
        return event, pending

    def withdraw(
        self, token: str, *, lang: Lang | None = None, ip: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[ConsentEvent, Pending]:  # fmt: skip
        """Record the withdrawal of the consent given through the request of *token*."""
        with self.lock, self.crm.transaction():
            pending = self.check(token, "withdraw")
            proof = self._proof(pending, lang or pending.lang, ip, user_agent)
            proof.pop("text"), proof.pop("text_version")
            event = self.crm.consents.record(
                pending.contact, pending.claims.purpose, "withdrawn",
                request_id=pending.claims.request_id, **proof,
            )  # fmt: skip
        return event, pending

    def withdraw_link(self, pending: Pending) -> str:
        """The one-click withdrawal link for a consent given through *pending*'s request."""
        return self.link(self.claims(pending.request, pending.text.version, "withdraw"))

    def app(self) -> SurveyApp:
        """The WSGI answer app for this CRM (mount it or run :func:`crmkit_survey.serve`)."""
        from crmkit_survey.web import SurveyApp

        return SurveyApp(self)


def _proof_text(mail: RenderedMail) -> str:
    """The mail as hashed for the ledger: subject line, blank line, body."""
    return f"{mail.subject}\n\n{mail.body}"


def mail_sha256(subject: str, body: str) -> str:
    """The SHA-256 the ledger keeps for a mail with *subject* and *body* (to check a copy)."""
    return text_sha256(f"{subject}\n\n{body.replace(chr(13) + chr(10), chr(10)).strip()}\n")


def configure(crm: CRM, config: SurveyConfig) -> Survey:
    """Bind *config* to *crm* (and every facade on the same store): returns the :class:`Survey`."""
    survey = Survey(crm, config)
    _SURVEYS[crm.store] = survey
    return survey


def survey_for(crm: CRM) -> Survey:
    """The :class:`Survey` configured for *crm*'s store, else one from the TOML file
    named by ``CRMKIT_SURVEY_CONFIG``; :class:`crmkit.CrmkitError` when there is none."""
    found = _SURVEYS.get(crm.store)
    if found is not None:
        return found if found.crm is crm else Survey(crm, found.config, found.lock)
    path = os.environ.get("CRMKIT_SURVEY_CONFIG")
    if not path:
        raise CrmkitError(code="survey.not_configured")
    configure(crm, SurveyConfig.from_toml(path))
    return _SURVEYS[crm.store]


class SurveyProvider:
    """The consent provider registered as ``survey`` (delegates to :func:`survey_for`)."""

    def send(self, crm: CRM, contact: Contact, event: ConsentEvent, reminder: bool) -> None:
        """Deliver a request or reminder mail; a failed delivery is recorded, not raised."""
        survey_for(crm).send(contact, event, reminder)


def deliveries(events: Iterable[ConsentEvent], request_id: str | None) -> list[ConsentEvent]:
    """The ``sent`` and ``send_failed`` events of one request, oldest first."""
    return [e for e in events if e.request_id == request_id and e.kind in ("sent", "send_failed")]


__all__ = [
    "CHANNEL",
    "PROVIDER",
    "Pending",
    "Survey",
    "SurveyProvider",
    "clean_line",
    "configure",
    "deliveries",
    "mail_sha256",
    "survey_for",
]
