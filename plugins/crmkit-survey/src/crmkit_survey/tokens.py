"""Signed link tokens and CSRF tokens — pure functions, time is a parameter.

A link token is ``<payload>.<mac>``, both URL-safe base64 without padding.
The payload is the JSON list ``[version, action, request id, contact id,
purpose, text version, expiry]``; the MAC is HMAC-SHA256 with the server
secret over a domain-separation prefix and the encoded payload, compared
in constant time (:func:`hmac.compare_digest`) *before* the payload is
parsed.  Changing any bound field changes the MAC, so a token cannot be
forged, altered, or replayed for another person, purpose, text or request.
Single use is not a property of the token but of the ledger: the answer
app refuses a token whose request already has an answer.

A CSRF token is ``<issued>.<nonce>.<mac>`` where the MAC binds the link
token, the issue time and a random per-form nonce.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from typing import Final, Literal

import attrs

from crmkit.errors import CrmkitError

Action = Literal["answer", "withdraw"]
ACTIONS: Final[tuple[Action, ...]] = ("answer", "withdraw")
VERSION: Final = 1
#: Longer tokens are refused without further work.
MAX_TOKEN_LENGTH: Final = 2048
_LINK_DOMAIN: Final = b"crmkit-survey/link/1|"
_CSRF_DOMAIN: Final = b"crmkit-survey/csrf/1|"
_B64: Final = re.compile(r"^[A-Za-z0-9_-]+$")


class TokenError(CrmkitError):
    """A link or CSRF token that is refused: ``code`` says why
    (``survey.token.invalid``, ``survey.token.expired``, ``survey.csrf.invalid``)."""

    code: str = "survey.token.invalid"


@attrs.frozen(kw_only=True)
class Claims:
    """What a link token is bound to."""

    action: Action
    request_id: str
    contact_id: str
    purpose: str
    text_version: str
    expires: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        """True from the expiry instant on."""
        return now >= self.expires


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64.match(text):
        raise TokenError(code="survey.token.invalid")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError(code="survey.token.invalid") from exc
    if _b64(data) != text:  # only the canonical spelling: one token per claims
        raise TokenError(code="survey.token.invalid")
    return data


def _mac(secret: bytes, domain: bytes, message: str) -> bytes:
    return hmac.new(secret, domain + message.encode("utf-8"), hashlib.sha256).digest()


def sign(secret: bytes, claims: Claims) -> str:
    """The URL-safe token for *claims*."""
    payload = json.dumps(
        [VERSION, claims.action, claims.request_id, claims.contact_id, claims.purpose,
         claims.text_version, int(claims.expires.timestamp())],
        separators=(",", ":"), ensure_ascii=True,
    )  # fmt: skip
    encoded = _b64(payload.encode("ascii"))
    return f"{encoded}.{_b64(_mac(secret, _LINK_DOMAIN, encoded))}"


def verify(secret: bytes, token: str, *, now: dt.datetime) -> Claims:
    """The claims of a genuine, unexpired *token*; :class:`TokenError` otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise TokenError(code="survey.token.invalid")
    encoded, mac = token.split(".")
    if not hmac.compare_digest(_unb64(mac), _mac(secret, _LINK_DOMAIN, encoded)):
        raise TokenError(code="survey.token.invalid")
    try:
        data = json.loads(_unb64(encoded))
    except ValueError as exc:  # pragma: no cover - only a key holder can sign bad JSON
        raise TokenError(code="survey.token.invalid") from exc
    if (
        not isinstance(data, list)
        or len(data) != 7
        or data[0] != VERSION
        or data[1] not in ACTIONS
        or not all(isinstance(v, str) for v in data[2:6])
        or not isinstance(data[6], int)
    ):
        raise TokenError(code="survey.token.invalid")  # pragma: no cover - signed by us
    claims = Claims(
        action=data[1], request_id=data[2], contact_id=data[3], purpose=data[4],
        text_version=data[5], expires=dt.datetime.fromtimestamp(data[6], dt.UTC),
    )  # fmt: skip
    if claims.expired(now):
        raise TokenError(code="survey.token.expired")
    return claims


def csrf_token(secret: bytes, link_token: str, *, now: dt.datetime) -> str:
    """A fresh CSRF token for a form that answers through *link_token*."""
    issued = str(int(now.timestamp()))
    nonce = secrets.token_urlsafe(16)
    mac = _mac(secret, _CSRF_DOMAIN, f"{link_token}|{issued}|{nonce}")
    return f"{issued}.{nonce}.{_b64(mac)}"


def check_csrf(
    secret: bytes, link_token: str, value: str | None, *, now: dt.datetime, max_age: int
) -> None:
    """Refuse (:class:`TokenError` ``survey.csrf.invalid``) a missing, altered,
    foreign or older than *max_age* seconds CSRF token."""
    parts = value.split(".") if isinstance(value, str) and len(value) < 200 else []
    if len(parts) != 3 or not parts[0].isdigit() or not _B64.match(parts[1]):
        raise TokenError(code="survey.csrf.invalid")
    issued, nonce, mac = parts
    try:
        given = _unb64(mac)
    except TokenError as exc:
        raise TokenError(code="survey.csrf.invalid") from exc
    expected = _mac(secret, _CSRF_DOMAIN, f"{link_token}|{issued}|{nonce}")
    if not hmac.compare_digest(given, expected):
        raise TokenError(code="survey.csrf.invalid")
    age = now.timestamp() - int(issued)
    if not -60 <= age <= max_age:
        raise TokenError(code="survey.csrf.invalid")


__all__ = ["ACTIONS", "Claims", "TokenError", "check_csrf", "csrf_token", "sign", "verify"]
