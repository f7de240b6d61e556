"""The answer app over a real HTTP server on 127.0.0.1: GET never records, POST needs CSRF."""

from __future__ import annotations

import datetime as dt
import re

import attrs
import pytest

import crmkit
from crmkit.consent import text_sha256
from crmkit.crm import CRM
from crmkit_survey import Survey, configure
from crmkit_survey.testing import TEXT, FakeClock, Inbox, form_fields, http, link_in
from crmkit_survey.web import ThreadingServer

pytest_plugins = ["crmkit_survey.fixtures"]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Test/1.0"


def ask(
    crm: CRM, survey: Survey, inbox: Inbox, mail: str = "erika@muster.de", **kw: object
) -> tuple[crmkit.Person, str]:
    contact = crm.contacts.add(
        crmkit.Person(first_name="Erika", last_name="Muster", emails=[mail], **kw)
    )
    assert isinstance(contact, crmkit.Person)
    survey.request(contact, "newsletter")
    return contact, link_in(inbox.to(mail)[-1])


def answers(crm: CRM, contact: crmkit.Contact) -> list[str]:
    return [
        e.kind
        for e in crm.consents.events(contact)
        if e.kind in ("granted", "declined", "withdrawn")
    ]


def test_the_page_shows_who_asks_and_the_exact_text(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika, link = ask(crm, survey, inbox)
    page = http(link)
    assert page.status == 200
    assert "Muster GmbH bittet um Ihre Einwilligung: Newsletter per E-Mail" in page.text
    assert TEXT.de in page.text and f"Version {TEXT.version}" in page.text
    assert ">Zustimmen</button>" in page.text and ">Ablehnen</button>" in page.text
    assert "Erika Muster (e…@muster.de)" in page.text
    assert 'href="https://muster.de/datenschutz"' in page.text
    english = http(link + "?lang=en")
    assert ">Agree</button>" in english.text and ">Decline</button>" in english.text
    assert TEXT.en in english.text
    headers = {k.lower(): v for k, v in page.headers.items()}
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script" not in page.text.lower()
    assert answers(crm, erika) == []


def test_a_get_only_crawler_never_records(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika, link = ask(crm, survey, inbox)
    before = crm.consents.events(erika)
    for _ in range(3):
        assert http(link).status == 200
        assert http(link, method="HEAD").status == 200
        assert http(link + "?answer=granted").status == 200
    for href in re.findall(r'href="([^"]+)"', http(link).text):
        if href.startswith("?"):
            http(link + href)
    assert crm.consents.events(erika) == before
    assert crm.consents.case(erika, "newsletter").stage == "open"  # type: ignore[union-attr]


def test_agree_records_proof_and_offers_withdrawal(
    crm: CRM, survey: Survey, inbox: Inbox, fake_clock: FakeClock
) -> None:
    erika, link = ask(crm, survey, inbox)
    fields = form_fields(http(link).text)
    fake_clock.advance(minutes=5)
    done = http(link, {**fields, "answer": "granted"}, headers={"User-Agent": BROWSER})
    assert done.status == 200
    assert "Vielen Dank. Ihre Einwilligung wurde gespeichert (23.11.2026 11:05 CET)" in done.text
    [granted] = [e for e in crm.consents.events(erika) if e.kind == "granted"]
    [requested] = [e for e in crm.consents.events(erika) if e.kind == "requested"]
    assert granted.request_id == requested.request_id
    assert (granted.channel, granted.ip, granted.user_agent) == ("survey", "127.0.0.1", BROWSER)
    assert granted.at == fake_clock.now and granted.contact_point == "erika@muster.de"
    assert (granted.text_version, granted.text_sha256) == (TEXT.version, text_sha256(TEXT.de))
    assert crm.consents.may_contact(erika, "newsletter", "email").allowed
    # the same link again: already answered (single use), also for a second form
    again = http(link)
    assert again.status == 409 and "bereits beantwortet" in again.text
    assert http(link, {**fields, "answer": "declined"}).status == 409
    assert answers(crm, erika) == ["granted"]
    # withdrawing is one click away
    withdraw = re.search(r'<a id="withdraw" href="([^"]+)"', done.text)
    assert withdraw is not None
    page = http(withdraw.group(1))
    assert page.status == 200 and ">Widerrufen</button>" in page.text
    assert answers(crm, erika) == ["granted"]  # GET did nothing
    gone = http(withdraw.group(1), {**form_fields(page.text), "answer": "withdrawn"})
    assert gone.status == 200 and "Ihre Einwilligung wurde widerrufen" in gone.text
    assert answers(crm, erika) == ["granted", "withdrawn"]
    assert not crm.consents.may_contact(erika, "newsletter", "email").allowed
    assert http(withdraw.group(1)).status == 409


def test_decline_in_english(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    john, link = ask(crm, survey, inbox, mail="john@example.com", tags={"lang:en"})
    page = http(link)
    assert ">Agree</button>" in page.text
    done = http(link, {**form_fields(page.text), "answer": "declined"})
    assert "We have recorded that you do not consent" in done.text
    assert 'id="withdraw"' not in done.text
    [declined] = [e for e in crm.consents.events(john) if e.kind == "declined"]
    assert declined.text_sha256 == text_sha256(TEXT.en)
    assert crm.consents.case(john, "newsletter").stage == "declined"  # type: ignore[union-attr]


def test_csrf_missing_or_altered_is_refused(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika, link = ask(crm, survey, inbox)
    fields = form_fields(http(link).text)
    issued, nonce, mac = fields["csrf"].split(".")
    _, other_link = ask(crm, survey, inbox, mail="max@muster.de")
    foreign = form_fields(http(other_link).text)["csrf"]
    altered = ("B" if mac[0] == "A" else "A") + mac[1:]  # never the MAC itself
    for csrf in (None, "", "1.2.3", f"{issued}.{nonce}.{altered}", foreign):
        data = {"answer": "granted", "lang": "de"}
        if csrf is not None:
            data["csrf"] = csrf
        refused = http(link, data)
        assert refused.status == 403, csrf
        assert "Formular war veraltet" in refused.text
    assert answers(crm, erika) == []


def test_an_old_form_is_refused(
    crm: CRM, survey: Survey, inbox: Inbox, fake_clock: FakeClock
) -> None:
    _erika, link = ask(crm, survey, inbox)
    fields = form_fields(http(link).text)
    fake_clock.advance(hours=2)
    assert http(link, {**fields, "answer": "granted"}).status == 403
    assert http(link, {**form_fields(http(link).text), "answer": "granted"}).status == 200


def test_expired_links_get_a_clear_page(
    crm: CRM, survey: Survey, inbox: Inbox, fake_clock: FakeClock
) -> None:
    erika, link = ask(crm, survey, inbox)
    fields = form_fields(http(link).text)
    fake_clock.advance(days=42)
    page = http(link)
    assert page.status == 410 and "Dieser Link ist abgelaufen" in page.text
    assert "datenschutz@muster.de" in page.text and "Traceback" not in page.text
    assert http(link, {**fields, "answer": "granted"}).status in (403, 410)
    assert answers(crm, erika) == []


def test_a_closed_or_superseded_request_cannot_be_answered(
    crm: CRM, survey: Survey, inbox: Inbox
) -> None:
    erika, first = ask(crm, survey, inbox)
    survey.request(erika, "newsletter")  # a new request replaces the first
    second = link_in(inbox.to("erika@muster.de")[-1])
    assert first != second
    assert http(first).status == 410
    assert http(second).status == 200


def test_forged_and_foreign_links(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika, link = ask(crm, survey, inbox)
    base, token = link.rsplit("/", 1)
    payload, mac = token.split(".")
    for bad in (
        f"{base}/{payload}.{mac[:-1]}B" if mac[-1] != "B" else f"{base}/{payload}.{mac[:-1]}C",
        f"{base}/{payload}",
        f"{base}/x.y",
        f"{base}/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        link.replace("/a/", "/w/"),  # an answer link used to withdraw
        f"{base}/{token}/extra",
        base + "/",
        base.rsplit("/", 1)[0] + "/",
    ):
        page = http(bad)
        assert page.status == 404, bad
        assert "<script>" not in page.text and "Traceback" not in page.text
    # a properly signed token binding Erika to another person's request: refused by the ledger
    max_, max_link = ask(crm, survey, inbox, mail="max@muster.de")
    from crmkit_survey.tokens import sign, verify

    claims = verify(survey.config.secret, max_link.rsplit("/", 1)[1], now=crm.now())
    crossed = sign(survey.config.secret, attrs.evolve(claims, contact_id=erika.id))
    assert http(f"{base}/{crossed}").status == 404
    cross_purpose = sign(survey.config.secret, attrs.evolve(claims, purpose="events"))
    assert http(f"{base}/{cross_purpose}").status == 404
    assert answers(crm, erika) == [] and answers(crm, max_) == []


def test_methods_and_sizes(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    _, link = ask(crm, survey, inbox)
    put = http(link, b"x", method="PUT")
    assert put.status == 405 and put.headers.get("Allow") == "GET, HEAD, POST"
    big = http(link, b"csrf=" + b"A" * 20000, headers={"Content-Type": "text/plain"})
    assert big.status == 413
    fields = form_fields(http(link).text)
    assert http(link, {**fields, "answer": "maybe"}).status == 400


HOSTILE = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "\x00\x1b[31m\r\nX-Injected: 1",
    "ä" * 3000,
    "../../etc/passwd",
    "{controller}{0}%s",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_input_in_every_field(crm: CRM, survey: Survey, inbox: Inbox, hostile: str) -> None:
    erika, link = ask(crm, survey, inbox)
    page = http(link + "?lang=" + hostile.encode("utf-8").hex())
    assert page.status == 200
    fields = form_fields(page.text)
    value = hostile[:500]
    data = {"csrf": fields["csrf"], "lang": value, "answer": "granted", hostile[:20]: value}
    headers = {
        "User-Agent": hostile.encode("utf-8").decode("latin-1")[:2000],
        "Accept-Language": "en",
        "X-Forwarded-For": "10.0.0.1",
    }
    headers = {k: v.replace("\r", " ").replace("\n", " ") for k, v in headers.items()}
    done = http(link, data, headers=headers)
    assert done.status == 200 and "<script>" not in done.text
    [granted] = [e for e in crm.consents.events(erika) if e.kind == "granted"]
    assert granted.ip == "127.0.0.1"  # X-Forwarded-For is not trusted by default
    assert granted.user_agent is None or len(granted.user_agent) <= 500
    assert all(ch.isprintable() for ch in granted.user_agent or "")


def test_hostile_names_and_texts_are_escaped(
    crm: CRM, inbox: Inbox, server: ThreadingServer
) -> None:
    from crmkit_survey.testing import make_config

    evil = attrs.evolve(TEXT, de='Ja <b>bitte</b> & "gern" <script>x()</script>')
    config = attrs.evolve(
        make_config(inbox, server),
        texts=(evil,),
        controller=attrs.evolve(
            make_config(inbox, server).controller,
            name="Böse <i>GmbH</i>",
            privacy_url="javascript:alert(1)",
        ),
    )
    survey = configure(crm, config)
    server.set_app(survey.app())
    contact = crm.contacts.add(
        crmkit.Person(first_name="<b>Eve</b>", last_name="O'Neil & Co", emails=["eve@muster.de"])
    )
    survey.request(contact, "newsletter")
    page = http(link_in(inbox.to("eve@muster.de")[0]))
    assert "&lt;script&gt;x()&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "Böse &lt;i&gt;GmbH&lt;/i&gt;" in page.text and "<i>" not in page.text
    assert "&lt;b&gt;Eve&lt;/b&gt;" in page.text and "javascript:" not in page.text


def test_minimised_proof_without_ip_and_user_agent(
    crm: CRM, inbox: Inbox, server: ThreadingServer
) -> None:
    from crmkit_survey.testing import make_config

    survey = configure(crm, make_config(inbox, server, record_ip=False, record_user_agent=False))
    server.set_app(survey.app())
    erika, link = ask(crm, survey, inbox)
    http(
        link, {**form_fields(http(link).text), "answer": "granted"}, headers={"User-Agent": BROWSER}
    )
    [granted] = [e for e in crm.consents.events(erika) if e.kind == "granted"]
    assert (granted.ip, granted.user_agent) == (None, None)
    assert granted.text_sha256 == text_sha256(TEXT.de)


def test_an_unexpected_error_shows_no_trace(
    crm: CRM, survey: Survey, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, link = ask(crm, survey, inbox)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(survey, "check", boom)
    page = http(link)
    assert page.status == 500 and "Es wurde nichts gespeichert" in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text


def test_the_app_mounts_under_a_prefix(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    import io

    _, link = ask(crm, survey, inbox)
    token = link.rsplit("/", 1)[1]
    seen: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/portal/consent",
        "PATH_INFO": f"/a/{token}",
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(),
    }
    body = b"".join(survey.app()(environ, lambda status, headers: seen.append(status)))
    assert seen == ["200 OK"] and b"Zustimmen" in body


def test_the_clock_is_the_crms(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    assert crm.now() == dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


def test_two_clicks_at_once_record_one_answer(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    erika, link = ask(crm, survey, inbox)
    forms = [form_fields(http(link).text) for _ in range(6)]
    choices = ["granted", "declined"] * 3
    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(
            pool.map(
                lambda fa: http(link, {**fa[0], "answer": fa[1]}).status,
                zip(forms, choices, strict=True),
            )
        )
    assert statuses == [200, 409, 409, 409, 409, 409]
    assert len(answers(crm, erika)) == 1


def test_the_server_log_holds_no_token(
    crm: CRM, survey: Survey, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import time

    _, link = ask(crm, survey, inbox)
    token = link.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="crmkit_survey.web"):
        assert http(link).status == 200
        assert http(link, {"answer": "granted"}).status == 403
        for _ in range(100):  # the server logs after the response went out
            messages = [r.getMessage() for r in caplog.records if r.name == "crmkit_survey.web"]
            if len(messages) >= 2:
                break
            time.sleep(0.02)
    assert sorted(messages) == ["GET 200", "POST 403"]  # logged after each response
    assert all(token not in m and token[:20] not in m for m in messages)
