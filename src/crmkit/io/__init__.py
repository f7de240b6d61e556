"""Importers' pure half: exported files (as text or bytes) into plain records.

* :mod:`crmkit.io.whatsapp` — WhatsApp chat exports;
* :mod:`crmkit.io.mail` — single e-mails (``.eml``) and mbox files.

The parsers read no file, clock or network and report what they could not
read as problem records instead of raising.  Importing this package
registers their message codes (English and German) in
:mod:`crmkit.messages`.
"""

from __future__ import annotations

from crmkit.io.mail import MailAddress, MailMessage, parse_email, parse_mbox
from crmkit.io.whatsapp import (
    ChatMessage,
    LineProblem,
    WhatsAppParse,
    group_by_day,
    parse_whatsapp,
)

__all__ = [
    "ChatMessage",
    "LineProblem",
    "MailAddress",
    "MailMessage",
    "WhatsAppParse",
    "group_by_day",
    "parse_email",
    "parse_mbox",
    "parse_whatsapp",
]
