"""Link and CSRF tokens: forged, altered, expired, cross-person and cross-purpose ones fail."""

from __future__ import annotations

import base64
import datetime as dt
import json

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmkit_survey.tokens import Claims, TokenError, check_csrf, csrf_token, sign, verify

SECRET = b"s" * 32
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
CLAIMS = Claims(
    action="answer",
    request_id="r" * 32,
    contact_id="c" * 32,
    purpose="newsletter",
    text_version="v1",
    expires=NOW + dt.timedelta(days=42),
)


def test_round_trip() -> None:
    token = sign(SECRET, CLAIMS)
    assert verify(SECRET, token, now=NOW) == CLAIMS
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_another_secret_is_refused() -> None:
    with pytest.raises(TokenError) as info:
        verify(b"t" * 32, sign(SECRET, CLAIMS), now=NOW)
    assert info.value.code == "survey.token.invalid"


def test_expired_from_the_expiry_instant_on() -> None:
    token = sign(SECRET, CLAIMS)
    verify(SECRET, token, now=CLAIMS.expires - dt.timedelta(seconds=1))
    with pytest.raises(TokenError) as info:
        verify(SECRET, token, now=CLAIMS.expires)
    assert info.value.code == "survey.token.expired"


def _resign_payload(token: str, change: dict[int, object]) -> str:
    """Alter the payload but keep the old MAC (what an attacker can do without the key)."""
    payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for index, value in change.items():
        data[index] = value
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "change",
    [
        {1: "withdraw"},  # another action
        {2: "x" * 32},  # another request
        {3: "d" * 32},  # another person
        {4: "email_marketing"},  # another purpose
        {5: "v2"},  # another text version
        {6: int((NOW + dt.timedelta(days=3650)).timestamp())},  # a later expiry
    ],
)
def test_altered_fields_are_refused(change: dict[int, object]) -> None:
    with pytest.raises(TokenError) as info:
        verify(SECRET, _resign_payload(sign(SECRET, CLAIMS), change), now=NOW)
    assert info.value.code == "survey.token.invalid"


def test_tokens_of_two_people_do_not_mix() -> None:
    other = attrs.evolve(CLAIMS, contact_id="d" * 32, request_id="x" * 32)
    mine, theirs = sign(SECRET, CLAIMS), sign(SECRET, other)
    mixed = mine.split(".")[0] + "." + theirs.split(".")[1]
    with pytest.raises(TokenError):
        verify(SECRET, mixed, now=NOW)


@given(st.text(max_size=300))
@example("")
@example(".")
@example("..")
@example("a.b")
@example("äöü.ß")
@example("A" * 5000)
@example("eyJ4IjoxfQ.AAAA")
def test_arbitrary_text_is_never_accepted(text: str) -> None:
    with pytest.raises(TokenError):
        verify(SECRET, text, now=NOW)


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0, max_value=200))
def test_any_bit_flip_is_refused(noise: bytes, position: int) -> None:
    token = sign(SECRET, CLAIMS)
    index = position % len(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[noise[0] % len(alphabet)]
    altered = token[:index] + replacement + token[index + 1 :]
    if altered != token:
        with pytest.raises(TokenError):
            verify(SECRET, altered, now=NOW)


@given(
    request_id=st.text(min_size=1, max_size=40),
    contact_id=st.text(min_size=1, max_size=40),
    purpose=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
    version=st.text(max_size=60),
)
def test_round_trip_for_any_claims(
    request_id: str, contact_id: str, purpose: str, version: str
) -> None:
    claims = Claims(
        action="withdraw",
        request_id=request_id,
        contact_id=contact_id,
        purpose=purpose,
        text_version=version,
        expires=NOW + dt.timedelta(days=1),
    )
    assert verify(SECRET, sign(SECRET, claims), now=NOW) == claims


def test_csrf_is_bound_to_the_link_and_expires() -> None:
    link = sign(SECRET, CLAIMS)
    value = csrf_token(SECRET, link, now=NOW)
    check_csrf(SECRET, link, value, now=NOW + dt.timedelta(minutes=59), max_age=3600)
    other_link = sign(SECRET, attrs.evolve(CLAIMS, purpose="events"))
    issued, nonce, mac = value.split(".")
    for bad in (
        None,
        "",
        "x",
        f"{issued}.{nonce}.{mac[:-2]}AA",  # altered MAC
        f"{int(issued) + 1}.{nonce}.{mac}",  # altered time
        f"{issued}.{nonce}x.{mac}",  # altered nonce
        csrf_token(b"t" * 32, link, now=NOW),  # another key
        csrf_token(SECRET, other_link, now=NOW),  # another link's form
    ):
        with pytest.raises(TokenError) as info:
            check_csrf(SECRET, link, bad, now=NOW, max_age=3600)
        assert info.value.code == "survey.csrf.invalid"
    with pytest.raises(TokenError):
        check_csrf(SECRET, link, value, now=NOW + dt.timedelta(minutes=61), max_age=3600)
    assert csrf_token(SECRET, link, now=NOW) != value  # a fresh nonce per form
