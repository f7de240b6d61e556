"""The ten contract scenarios of the reference (§5) against the fake Graph, and more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.sync import DEFAULT_FIELD_TABLE
from crmkit_m365 import (
    GraphBook,
    GraphClient,
    GraphError,
    M365Config,
    M365Provider,
    StaticToken,
    configure,
)
from crmkit_m365.book import NUMBER_PROPERTY
from crmkit_m365.testing import FakeGraph

MAILBOX = "anna.schmidt@müller-gmbh.de"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Sleeps(list[float]):
    """An injected ``sleep`` that only records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    graph = FakeGraph(page_size=10)
    graph.start()
    graph.add_mailbox(MAILBOX)
    yield graph
    graph.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[crmkit.CRM]:
    opened = crmkit.open(f"sqlite:///{tmp_path / 'crm.db'}", clock=lambda: NOW)
    yield opened
    opened.close()


def make_config(fake: FakeGraph, **overrides: object) -> M365Config:
    values: dict[str, object] = {
        "tenant_id": "contoso",
        "client_id": "app",
        "secret": "geheim",
        "mailboxes": [MAILBOX],
        "base_url": fake.base_url,
    }
    values.update(overrides)
    return M365Config(**values)  # type: ignore[arg-type]


@pytest.fixture
def provider(fake: FakeGraph, crm: crmkit.CRM, sleeps: Sleeps) -> M365Provider:
    configure(crm, make_config(fake))
    return M365Provider(
        token_provider=StaticToken(fake.issue_token), sleep=sleeps, max_retries=3, page_size=10
    )


def _people(crm: crmkit.CRM, n: int, prefix: str = "Kunde") -> list[crmkit.Person]:
    return crm.contacts.add_many(
        crmkit.Person(
            first_name="Jürgen",
            last_name=f"{prefix}{i:03d}",
            emails=[f"{prefix.lower()}{i}@beispiel.de"],
        )
        for i in range(n)
    )


def _edit(crm: crmkit.CRM, contact: crmkit.Contact, **changes: Any) -> None:
    crm.contacts.update(attrs.evolve(crm.contacts.get(contact.id), **changes))


def _folder(fake: FakeGraph) -> str:
    fid = fake.folder_id(MAILBOX, "CRM")
    assert fid is not None
    return fid


def _remote(fake: FakeGraph, crm: crmkit.CRM, contact: crmkit.Contact) -> str:
    (link,) = crm.sync.status(contact).links
    assert link.remote_id is not None
    return link.remote_id


def _numbers(fake: FakeGraph) -> list[str]:
    return sorted(fake.extended(c["id"]).get(NUMBER_PROPERTY, "") for c in fake.contacts(MAILBOX))


def test_1_full_initial_sync_over_several_delta_pages(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    provider.sync(crm)  # creates the folder
    fid = _folder(fake)
    for i in range(25):
        fake.external_create(
            MAILBOX,
            fid,
            givenName="Erika",
            surname=f"Müller{i:02d}",
            emailAddresses=[{"address": f"erika{i}@müller.de"}],
            personalNotes="privat",
            birthday="1970-01-01T00:00:00Z",
        )
    before = fake.count("GET", r"/contacts/delta")
    report = provider.sync(crm)
    assert fake.count("GET", r"/contacts/delta") - before >= 3
    assert report.total("created_crm") == 25 and crm.contacts.count() == 25
    assert all(
        r.headers.get("prefer", "").startswith('IdType="ImmutableId"')
        for r in fake.requests
        if not r.batch
    )
    assert sorted(_numbers(fake)) == sorted(c.number or "" for c in crm.contacts.all())
    assert not any("privat" in repr(link.snapshot) for link in crm.sync.links())


def test_2_incremental_sync_with_create_update_and_delete(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    a, b = _people(crm, 2)
    provider.sync(crm)
    fid = _folder(fake)
    fake.external_edit(_remote(fake, crm, a), surname="Geändert", mobilePhone="+49 170 1234567")
    fake.external_delete(_remote(fake, crm, b))
    fake.external_create(
        MAILBOX,
        fid,
        givenName="Neu",
        surname="Kontakt",
        emailAddresses=[{"address": "neu@kontakt.de"}],
    )
    report = provider.sync(crm)
    got = crm.contacts.get(a.id)
    assert isinstance(got, crmkit.Person) and got.last_name == "Geändert"
    assert [p.e164 for p in got.phones] == ["+491701234567"]
    assert crm.sync.status(b).state == "unlinked" and crm.contacts.get(b.id)
    assert report.total("created_crm") == 1 and report.total("unlinked") == 1
    assert crm.contacts.count() == 3


def test_3_no_patch_for_our_own_echoes(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    (a,) = _people(crm, 1)
    provider.sync(crm)
    _edit(crm, a, title="Dr.")
    provider.sync(crm)
    assert fake.contact(_remote(fake, crm, a))["title"] == "Dr."
    seen = len(fake.requests)
    provider.sync(crm)
    provider.sync(crm)
    later = fake.requests[seen:]
    assert not any(r.method in ("PATCH", "POST", "DELETE") and r.batch for r in later)


def test_4_throttling_honours_retry_after_and_backs_off_a_bounded_number_of_times(
    fake: FakeGraph, sleeps: Sleeps
) -> None:
    client = GraphClient(
        StaticToken(fake.issue_token), base_url=fake.base_url, sleep=sleeps, max_retries=3
    )
    fake.throttle(1, retry_after=7, where="contactFolders")
    assert client.get_json("users/" + MAILBOX + "/contactFolders") == {"value": []}
    assert sleeps == [7.0]
    fake.throttle(1, retry_after=3, where="contactFolders", status=503)
    client.get_json("users/" + MAILBOX + "/contactFolders")
    assert sleeps == [7.0, 3.0]
    sleeps.clear()
    fake.throttle(10, retry_after=None, where="contactFolders")
    with pytest.raises(GraphError) as err:
        client.get_json("users/" + MAILBOX + "/contactFolders")
    assert err.value.status == 429 and sleeps == [1.0, 2.0, 4.0]
    assert "Bearer" not in str(err.value) and "Bearer" not in err.value.message("de")


@pytest.mark.parametrize("mode", ["410", "400", "mid_round"])
def test_5_expired_delta_tokens_give_a_full_resync_with_mark_and_sweep(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider, mode: str
) -> None:
    people = _people(crm, 25)
    provider.sync(crm)
    gone = people[3]
    fake.external_delete(_remote(fake, crm, gone))
    if mode == "mid_round":  # the round's next link dies after its first page
        for p in people[:3]:
            fake.external_edit(_remote(fake, crm, p), jobTitle="Einkauf")
        provider.page_size = 2
        fake.before_next(
            r"GET .*/contacts/delta\?.*skiptoken",
            lambda: fake.invalidate_delta_tokens(mode="mid_round"),
        )
    else:
        fake.invalidate_delta_tokens(mode=mode)
    report = provider.sync(crm)
    (one,) = report.reports
    assert one.full_resync
    assert crm.sync.status(gone).state == "unlinked"
    assert all(crm.sync.status(p).state == "ok" for p in people if p is not gone)
    assert len(fake.contacts(MAILBOX)) == 24


def test_6_a_412_is_read_again_merged_again_and_retried(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    (a,) = _people(crm, 1)
    provider.sync(crm)
    rid = _remote(fake, crm, a)
    _edit(crm, a, title="Dr.")
    fake.before_next(
        r"PATCH /users/.*/contacts/", lambda: fake.external_edit(rid, mobilePhone="+49 170 7654321")
    )
    provider.sync(crm)
    assert any(r.status == 412 for r in fake.requests)
    assert fake.count("PATCH") >= 2 and fake.count("GET", rid) >= 1
    remote = fake.contact(rid)
    assert remote["title"] == "Dr." and remote["mobilePhone"] == "+49 170 7654321"
    got = crm.contacts.get(a.id)
    assert [p.e164 for p in got.phones] == ["+491707654321"]
    assert crm.sync.status(a).state == "ok"


def test_6b_a_true_conflict_lands_on_the_worklist_and_is_resolved(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    configure(
        crm, make_config(fake, table=DEFAULT_FIELD_TABLE.with_rules({"surname": ("both", "ask")}))
    )
    (a,) = _people(crm, 1)
    provider.sync(crm)
    rid = _remote(fake, crm, a)
    _edit(crm, a, last_name="Im-CRM")
    fake.external_edit(rid, surname="In-Outlook")
    provider.sync(crm)
    (item,) = [i for i in crm.worklist(today=NOW.date()) if i.kind == "sync.conflict"]
    assert item.contact_id == a.id
    assert fake.contact(rid)["surname"] == "In-Outlook"
    crm.sync.resolve(a, "m365", MAILBOX, {"surname": "crm"})
    provider.sync(crm)
    assert fake.contact(rid)["surname"] == "Im-CRM"
    assert fake.contact(rid)["displayName"] == "Jürgen Im-CRM"
    assert crm.sync.status(a).state == "ok"


def test_6c_by_default_the_remote_side_wins_a_true_conflict(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    (a,) = _people(crm, 1)
    provider.sync(crm)
    rid = _remote(fake, crm, a)
    _edit(crm, a, last_name="Im-CRM")
    fake.external_edit(rid, surname="In-Outlook")
    provider.sync(crm)
    assert crm.contacts.get(a.id).display_name == "Jürgen In-Outlook"
    assert fake.contact(rid)["surname"] == "In-Outlook"


def test_7_batches_hold_at_most_20_and_a_throttled_item_is_retried_alone(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider, sleeps: Sleeps
) -> None:
    _people(crm, 25)
    fake.throttle(1, retry_after=2, where=r"POST /users/.*/contactFolders/.*/contacts$")
    provider.sync(crm)
    batches = [r for r in fake.requests if r.path.endswith("/$batch")]
    sizes = sorted(len(r.body["requests"]) for r in batches)
    assert sizes == [1, 5, 20]
    assert 2.0 in sleeps
    assert len(fake.contacts(MAILBOX)) == 25 and len(set(_numbers(fake))) == 25


def test_8_never_more_than_4_requests_in_flight(crm: crmkit.CRM, sleeps: Sleeps) -> None:
    with FakeGraph(latency=0.05, max_concurrency=4) as fake:
        fake.add_mailbox(MAILBOX)
        configure(crm, make_config(fake))
        provider = M365Provider(token_provider=StaticToken(fake.issue_token), sleep=sleeps)
        _people(crm, 130)
        provider.sync(crm)
        assert fake.max_in_flight <= 4
        assert not any(r.status == 429 for r in fake.requests)
        assert len(fake.contacts(MAILBOX)) == 130


def test_9_links_are_rebuilt_from_the_extended_property_after_lost_state(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    people = _people(crm, 12)
    provider.sync(crm)
    store = crm.store
    for p in people:
        store.delete_sync_link(p.id, "m365", MAILBOX)  # type: ignore[attr-defined]
    store.put_sync_state("m365", MAILBOX, f"delta/{_folder(fake)}", None)  # type: ignore[attr-defined]
    report = provider.sync(crm)
    assert report.total("relinked") == 12 and report.total("created_remote") == 0
    assert len(fake.contacts(MAILBOX)) == 12 and crm.contacts.count() == 12
    assert all(crm.sync.status(p).state == "ok" for p in people)


def test_10_an_expired_token_is_refreshed_once(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    _people(crm, 3)
    provider.sync(crm)
    issued = fake.tokens_issued
    fake.expire_tokens()
    _people(crm, 1, prefix="Neu")
    report = provider.sync(crm)
    assert fake.tokens_issued == issued + 1
    assert report.stats["refreshes"] == 1
    assert len(fake.contacts(MAILBOX)) == 4


def test_erasure_deletes_the_remote_copy_and_is_audited(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    a, b = _people(crm, 2)
    provider.sync(crm)
    rid = _remote(fake, crm, a)
    crm.privacy.erase(a, reason="Art. 17")
    report = provider.sync(crm)
    assert report.total("deleted_remote") == 1
    assert [c["id"] for c in fake.contacts(MAILBOX)] == [_remote(fake, crm, b)]
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    assert [r.path.rsplit("/", 1)[1] for r in deletes] == [rid]
    assert deletes[0].headers.get("if-match", "").startswith('W/"')
    assert any(
        r.action == "sync_delete_remote" and r.entity_id == a.id for r in crm.audit.history()
    )


def test_a_dry_run_writes_nothing_anywhere(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    _people(crm, 3)
    report = provider.sync(crm, dry_run=True)
    assert report.total("created_remote") == 3
    assert fake.contacts(MAILBOX) == [] and crm.sync.links() == []
    assert "<table" in report._repr_html_()


def test_replayed_and_partial_delta_items_are_applied_idempotently(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    people = _people(crm, 15)
    provider.sync(crm)
    fake.replay = True
    fake.partial_updates = True
    provider.page_size = 3
    for i, p in enumerate(people[:8]):
        fake.external_edit(_remote(fake, crm, p), mobilePhone=f"+49 170 55500{i:02d}")
    fake.external_edit(_remote(fake, crm, people[0]), surname="Zweimal")
    seen = len(fake.requests)
    report = provider.sync(crm)
    assert any(r.path.endswith("/delta") and "skiptoken" in str(r.query) for r in fake.requests)
    assert report.total("updated_crm") == 8 and report.total("errors") == 0
    first = crm.contacts.get(people[0].id)
    assert isinstance(first, crmkit.Person) and first.last_name == "Zweimal"
    assert first.emails[0].address == "kunde0@beispiel.de"  # not cleared by a partial item
    assert [p.e164 for p in first.phones] == ["+491705550000"]
    assert not any(r.batch for r in fake.requests[seen:])  # nothing to push back
    again = provider.sync(crm)
    assert again.total("updated_crm") == 0


def test_a_contact_moved_out_of_the_folder_is_only_unlinked(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    (a,) = _people(crm, 1)
    provider.sync(crm)
    rid = _remote(fake, crm, a)
    other = fake.create_folder(MAILBOX, "Privat")
    fake.move(rid, other)
    report = provider.sync(crm)
    assert report.total("unlinked") == 1 and crm.sync.status(a).state == "unlinked"
    assert crm.contacts.get(a.id).display_name == "Jürgen Kunde000"
    assert fake.contact(rid)["parentFolderId"] == other  # same id: immutable ids
    kinds = [i.kind for i in crm.worklist(today=NOW.date()) if i.source == "sync"]
    assert kinds == ["sync.unlinked"]


def test_a_token_still_refused_after_one_refresh_is_an_error(
    fake: FakeGraph, sleeps: Sleeps
) -> None:
    client = GraphClient(StaticToken("abgelaufen"), base_url=fake.base_url, sleep=sleeps)
    with pytest.raises(GraphError) as err:
        client.get_json(f"users/{MAILBOX}/contactFolders")
    assert err.value.status == 401 and err.value.graph_code == "InvalidAuthenticationToken"
    assert client.stats["requests"] == 2 and client.stats["refreshes"] == 1
    assert "abgelaufen" not in str(err.value)


def test_the_fake_filters_by_extended_property_and_e_mail(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider, sleeps: Sleeps
) -> None:
    a, _ = _people(crm, 2)
    provider.sync(crm)
    client = GraphClient(StaticToken(fake.issue_token), base_url=fake.base_url, sleep=sleeps)
    book = GraphBook(client, MAILBOX)
    assert book.find_by_number(a.number or "") == [_remote(fake, crm, a)]
    assert book.find_by_number("C99999") == []
    found = client.pages(
        f"users/{MAILBOX}/contacts",
        params={"$filter": "emailAddresses/any(a:a/address eq 'KUNDE0@beispiel.de')"},
    )
    assert [c["id"] for c in found] == [_remote(fake, crm, a)]
    with pytest.raises(GraphError) as err:
        client.pages(f"users/{MAILBOX}/contacts", params={"$filter": "surname eq 'x'"})
    assert err.value.status == 400


def test_a_failing_mailbox_does_not_stop_the_others(
    fake: FakeGraph, crm: crmkit.CRM, provider: M365Provider
) -> None:
    configure(crm, make_config(fake, mailboxes=["niemand@firma.de", MAILBOX]))
    _people(crm, 2)
    report = provider.sync(crm)
    broken, fine = report.reports
    assert broken.errors == 1 and "ErrorInvalidUser" in broken.events[0].detail
    assert fine.created_remote == 2 and len(fake.contacts(MAILBOX)) == 2
    assert "niemand@firma.de" in str(report)
