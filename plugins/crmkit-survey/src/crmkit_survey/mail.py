"""The request and reminder mails: templates, rendering, delivery over SMTP.

The mails are plain text, carry the personal link and nothing else — no
advertising (a consent request that advertises is itself advertising,
OLG München 29 U 1682/12).  Delivery uses :mod:`smtplib` with plain,
STARTTLS or implicit TLS connections and optional credentials.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from string import Template
from typing import Final

import attrs

from crmkit_survey.config import MailTemplate, SmtpConfig

_REQUEST_DE: Final = """$greeting

$controller bittet Sie um Ihre Einwilligung: $purpose.

Der Wortlaut, dem Sie zustimmen würden:

$text

Bitte teilen Sie uns über Ihren persönlichen Link mit, ob Sie zustimmen oder
ablehnen (gültig bis $expires):

$link

Ohne Ihre Zustimmung gehen wir davon aus, dass Sie nicht einwilligen. Ihre
Einwilligung ist freiwillig und jederzeit widerruflich.

Verantwortlich: $controller_line
Datenschutzerklärung: $privacy_url
"""

_REQUEST_EN: Final = """$greeting

$controller asks for your consent: $purpose.

The wording you would agree to:

$text

Please let us know through your personal link whether you agree or decline
(valid until $expires):

$link

Without your consent we assume that you do not consent. Your consent is
voluntary and can be withdrawn at any time.

Controller: $controller_line
Privacy policy: $privacy_url
"""

_REMINDER_DE: Final = """$greeting

wir haben Sie kürzlich um Ihre Einwilligung gebeten ($purpose) und noch
keine Antwort erhalten. Falls Sie antworten möchten, nutzen Sie bitte
Ihren persönlichen Link (gültig bis $expires):

$link

Der Wortlaut:

$text

Wenn Sie nicht antworten, speichern wir keine Einwilligung.

Verantwortlich: $controller_line
Datenschutzerklärung: $privacy_url
"""

_REMINDER_EN: Final = """$greeting

we recently asked for your consent ($purpose) and have not heard from you.
If you would like to answer, please use your personal link (valid until
$expires):

$link

The wording:

$text

If you do not answer, we record no consent.

Controller: $controller_line
Privacy policy: $privacy_url
"""

#: The built-in templates; override any of them with ``SurveyConfig.templates``.
DEFAULT_TEMPLATES: Final[dict[str, MailTemplate]] = {
    "request.de": MailTemplate(id="request.de", version="1",
                               subject="Ihre Einwilligung: $purpose", body=_REQUEST_DE),
    "request.en": MailTemplate(id="request.en", version="1",
                               subject="Your consent: $purpose", body=_REQUEST_EN),
    "reminder.de": MailTemplate(id="reminder.de", version="1",
                                subject="Erinnerung: Ihre Einwilligung: $purpose",
                                body=_REMINDER_DE),
    "reminder.en": MailTemplate(id="reminder.en", version="1",
                                subject="Reminder: your consent: $purpose", body=_REMINDER_EN),
}  # fmt: skip


@attrs.frozen(kw_only=True)
class RenderedMail:
    """A rendered mail: subject and body, and the template they came from."""

    template: MailTemplate
    subject: str
    body: str


def render_mail(template: MailTemplate, values: dict[str, str]) -> RenderedMail:
    """Fill *template* with *values* (unknown placeholders stay as they are)."""
    subject = Template(template.subject).safe_substitute(values)
    body = Template(template.body).safe_substitute(values)
    return RenderedMail(
        template=template,
        subject=" ".join(subject.split()),
        body=body.replace("\r\n", "\n").strip() + "\n",
    )


def build_message(
    mail: RenderedMail, *, smtp: SmtpConfig, sender_name: str, to: str, date: object
) -> EmailMessage:
    """The :class:`email.message.EmailMessage` for *mail* to *to*."""
    import datetime as dt

    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, smtp.sender))
    msg["To"] = to
    msg["Subject"] = mail.subject
    if isinstance(date, dt.datetime):
        msg["Date"] = format_datetime(date)
    domain = smtp.sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.body, charset="utf-8")
    return msg


def deliver(smtp: SmtpConfig, message: EmailMessage) -> None:
    """Send *message* over SMTP as *smtp* says; raise on any failure.

    With ``starttls`` a server that does not offer STARTTLS is an error
    (nothing goes out in plain text); certificates are verified.  A
    recipient refused by the server raises
    :class:`smtplib.SMTPRecipientsRefused`; connection problems raise
    :class:`OSError`.
    """
    context = ssl.create_default_context(cafile=smtp.cafile)
    client: smtplib.SMTP
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        refused = client.send_message(message)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


__all__ = ["DEFAULT_TEMPLATES", "RenderedMail", "build_message", "deliver", "render_mail"]
