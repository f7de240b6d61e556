"""A sync round against an in-memory remote book, on the memory store and an SQLite file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.hookspecs import hookimpl
from crmkit.model import Contact
from crmkit.sync import DEFAULT_FIELD_TABLE, SyncFilter
from crmkit.testing.remote_book import MemoryBook

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Recorder:
    """Every contact-saved notification with its origin, in the order they arrive."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, str]] = []

    @hookimpl
    def crmkit_on_contact_saved(self, contact: Contact, created: bool, origin: str) -> None:
        self.saved.append((contact.id, origin))


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def crm(url: str, recorder: Recorder) -> Iterator[crmkit.CRM]:
    opened = crmkit.open(url, plugins=[recorder], clock=lambda: NOW)
    yield opened
    opened.close()


def _person(crm: crmkit.CRM, last: str, *, email: bool = True, **kw: Any) -> crmkit.Person:
    emails = [f"{last.lower()}@beispiel.de"] if email else []
    return crm.contacts.add(crmkit.Person(first_name="Jürgen", last_name=last, emails=emails, **kw))


def _edit(crm: crmkit.CRM, person: Contact, **changes: Any) -> None:
    crm.contacts.update(attrs.evolve(crm.contacts.get(person.id), **changes))


def _remote_of(book: MemoryBook, crm: crmkit.CRM, contact: Contact) -> str:
    (link,) = crm.sync.status(contact).links
    assert link.remote_id is not None
    return link.remote_id


def test_first_round_pushes_contacts_in_scope_and_skips_those_without_email(
    crm: crmkit.CRM,
) -> None:
    kunde = _person(crm, "Weiß", tags={"kunde"})
    ohne = _person(crm, "Ohnemail", email=False, tags={"kunde"})
    _person(crm, "Anders", tags={"lieferant"})
    book = MemoryBook()
    report = crm.sync.round(book, where=SyncFilter(tags={"kunde"}))
    assert (report.created_remote, report.skipped_no_email) == (1, 1)
    (remote_id,) = book.items
    assert book.values(remote_id)["surname"] == "Weiß"
    assert book.values(remote_id)["categories"] == ("kunde",)
    assert book.crm_number(remote_id) == kunde.number
    assert crm.sync.status(kunde).state == "ok"
    assert crm.sync.status(ohne).state == "skipped_no_email"
    items = [i for i in crm.worklist(today=NOW.date()) if i.source == "sync"]
    assert [(i.kind, i.contact_name) for i in items] == [
        ("sync.skipped_no_email", "Jürgen Ohnemail")
    ]
    writes = len(book.writes)
    again = crm.sync.round(book, where=SyncFilter(tags={"kunde"}))
    assert len(book.writes) == writes  # nothing to do, not even for our own echo
    assert (again.created_remote, again.updated_remote, again.updated_crm) == (0, 0, 0)


def test_remote_edits_come_in_tagged_as_sync_and_are_not_pushed_back(
    crm: crmkit.CRM, recorder: Recorder
) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    book.external_edit(rid, surname="Weiss", mobile_phone="+491701234567",
                       personal_notes="privat", birthday="1970-01-01")  # fmt: skip
    recorder.saved.clear()
    writes = len(book.writes)
    report = crm.sync.round(book)
    stored = crm.contacts.get(person.id)
    assert isinstance(stored, crmkit.Person)
    assert stored.last_name == "Weiss"
    assert [p.e164 for p in stored.phones] == ["+491701234567"]
    assert report.updated_crm == 1 and report.updated_remote == 0
    assert recorder.saved == [(person.id, "sync:memory")]
    assert len(book.writes) == writes
    (link,) = crm.sync.status(person).links
    assert "personal_notes" not in link.snapshot and "birthday" not in link.snapshot
    assert crm.audit.history(person.id)[-1].reason == "sync:memory"
    crm.sync.round(book)
    assert len(book.writes) == writes


def test_crm_edits_are_pushed_and_crm_data_is_never_overwritten(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß", tags={"kunde"})
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    _edit(crm, person, title="Dr.")
    book.external_edit(rid, categories=("privat",))
    report = crm.sync.round(book)
    assert book.values(rid)["title"] == "Dr."
    assert book.values(rid)["categories"] == ("kunde",)  # the CRM owns the tags
    assert crm.contacts.get(person.id).tags == {"kunde"}
    assert report.updated_remote == 1


def test_a_true_conflict_goes_to_the_remote_side_by_default(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    _edit(crm, person, last_name="Weiß-CRM")
    book.external_edit(rid, surname="Weiß-Outlook")
    report = crm.sync.round(book)
    assert crm.contacts.get(person.id).display_name == "Jürgen Weiß-Outlook"
    assert book.values(rid)["surname"] == "Weiß-Outlook"
    assert report.conflicts == 0 and crm.sync.status(person).state == "ok"


def test_an_asked_conflict_waits_on_the_worklist_until_decided(crm: crmkit.CRM) -> None:
    table = DEFAULT_FIELD_TABLE.with_rules({"surname": ("both", "ask")})
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book, table=table)
    rid = _remote_of(book, crm, person)
    _edit(crm, person, last_name="Weiß-CRM")
    book.external_edit(rid, surname="Weiß-Outlook")
    report = crm.sync.round(book, table=table)
    assert report.conflicts == 1
    assert crm.sync.status(person).state == "conflict"
    assert crm.contacts.get(person.id).display_name == "Jürgen Weiß-CRM"
    assert book.values(rid)["surname"] == "Weiß-Outlook"
    (item,) = [i for i in crm.worklist(today=NOW.date()) if i.kind == "sync.conflict"]
    assert "surname" in item.reason("de")
    crm.sync.round(book, table=table)  # still waiting: nothing overwritten
    assert book.values(rid)["surname"] == "Weiß-Outlook"
    crm.sync.resolve(person, "memory", book.mailbox, {"surname": "crm"})
    crm.sync.round(book, table=table)
    assert book.values(rid)["surname"] == "Weiß-CRM"
    assert crm.sync.status(person).state == "ok"
    assert crm.sync.decisions(person, "memory", book.mailbox) == {}


def test_a_remote_delete_only_unlinks(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    book.external_delete(_remote_of(book, crm, person))
    report = crm.sync.round(book)
    assert report.unlinked == 1
    assert crm.contacts.get(person.id).display_name == "Jürgen Weiß"
    assert crm.sync.status(person).state == "unlinked"
    kinds = [i.kind for i in crm.worklist(today=NOW.date()) if i.source == "sync"]
    assert kinds == ["sync.unlinked"]
    crm.sync.round(book)
    assert book.items == {}  # not pushed again: the CRM keeps it, the user decides
    crm.sync.forget(person, "memory", book.mailbox)
    crm.sync.round(book)
    assert len(book.items) == 1 and crm.sync.status(person).state == "ok"


def test_remote_creates_become_crm_contacts_and_carry_their_number(crm: crmkit.CRM) -> None:
    book = MemoryBook()
    rid = book.external_create(given_name="Erika", surname="Müller",
                               emails=("erika@müller.de",), company_name="Muster GmbH")  # fmt: skip
    book.external_create(given_name="Ohne", surname="Mail")
    report = crm.sync.round(book)
    assert report.created_crm == 1
    (found,) = crm.search("Müller")
    assert book.crm_number(rid) == found.number
    assert book.values(rid)["company_name"] == "Muster GmbH"  # kept: the CRM has no company
    assert crm.sync.status(found).state == "ok"


def test_erasure_deletes_the_remote_copy_and_is_audited(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    crm.privacy.erase(person, reason="Art. 17 Antrag")
    report = crm.sync.round(book)
    assert report.deleted_remote == 1 and rid not in book.items
    assert crm.sync.links() == []
    actions = [(r.action, r.entity_id) for r in crm.audit.history()]
    assert ("sync_delete_remote", person.id) in actions


def test_archived_contacts_lose_their_copy_and_a_merge_moves_it(crm: crmkit.CRM) -> None:
    a, b, c = (_person(crm, n) for n in ("Alt", "Bleibt", "Doppelt"))
    book = MemoryBook()
    crm.sync.round(book)
    rid_a, rid_b = _remote_of(book, crm, a), _remote_of(book, crm, b)
    crm.contacts.archive(a, reason="Kunde verloren")
    crm.merge(b, c)  # c's copy goes; b keeps its own
    report = crm.sync.round(book)
    assert rid_a not in book.items and rid_b in book.items
    assert report.deleted_remote == 2
    assert len(book.items) == 1


def test_a_412_is_read_again_merged_again_and_retried(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    _edit(crm, person, title="Dr.")
    book.conflicts_to_inject = 1
    crm.sync.round(book)
    assert book.values(rid)["title"] == "Dr."
    assert crm.sync.status(person).state == "ok"
    book.conflicts_to_inject = 3  # every attempt of the round
    _edit(crm, person, title="Prof.")
    report = crm.sync.round(book)
    assert report.errors == 1 and crm.sync.status(person).state == "error"
    crm.sync.round(book)
    assert book.values(rid)["title"] == "Prof." and crm.sync.status(person).state == "ok"


def test_an_expired_token_gives_a_full_round_with_mark_and_sweep(crm: crmkit.CRM) -> None:
    kept, gone = _person(crm, "Bleibt"), _person(crm, "Weg")
    book = MemoryBook()
    crm.sync.round(book)
    book.external_delete(_remote_of(book, crm, gone))
    book.expire_tokens()
    report = crm.sync.round(book)
    assert report.full_resync and report.unlinked == 1
    assert crm.sync.status(gone).state == "unlinked"
    assert crm.sync.status(kept).state == "ok"


def test_lost_local_state_relinks_through_the_number_without_duplicates(
    crm: crmkit.CRM,
) -> None:
    people = [_person(crm, n) for n in ("Eins", "Zwei", "Drei")]
    book = MemoryBook()
    crm.sync.round(book)
    for person in people:
        crm.store.delete_sync_link(person.id, "memory", book.mailbox)  # type: ignore[attr-defined]
    crm.store.put_sync_state("memory", book.mailbox, "delta/CRM", None)  # type: ignore[attr-defined]
    report = crm.sync.round(book)
    assert report.relinked == 3 and report.created_remote == 0 and report.created_crm == 0
    assert len(book.items) == 3 and crm.contacts.count() == 3
    assert all(crm.sync.status(p).state == "ok" for p in people)


def test_a_dry_run_changes_nothing(crm: crmkit.CRM) -> None:
    _person(crm, "Weiß")
    book = MemoryBook()
    book.external_create(given_name="Erika", surname="Müller", emails=("erika@x.de",))
    report = crm.sync.round(book, dry_run=True)
    assert (report.created_remote, report.created_crm, report.dry_run) == (1, 1, True)
    assert len(book.items) == 1 and crm.contacts.count() == 1 and crm.sync.links() == []
    assert "dry run" in str(report) and "<table" in report._repr_html_()


def test_stray_copies_carrying_our_number_are_deleted_never_imported(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    gone = _person(crm, "Gelöscht")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    duplicate = book.external_create(**book.values(rid))
    book.numbers[duplicate] = person.number or ""
    orphan = _remote_of(book, crm, gone)
    crm.store.delete_sync_link(gone.id, "memory", book.mailbox)  # type: ignore[attr-defined]
    crm.privacy.erase(gone, reason="Art. 17")
    book.external_edit(orphan, title="Dr.")  # shows up in the next delta, unlinked
    report = crm.sync.round(book)
    assert set(book.items) == {rid}
    assert report.deleted_remote == 2 and report.created_crm == 0
    assert crm.contacts.count() == 1


def test_a_merged_contacts_copy_moves_to_a_survivor_without_one(crm: crmkit.CRM) -> None:
    alt = _person(crm, "Alt")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, alt)
    neu = _person(crm, "Neu")  # not synced yet
    crm.merge(neu, alt)
    report = crm.sync.round(book)
    assert set(book.items) == {rid} and report.created_remote == 0
    assert book.values(rid)["surname"] == "Neu"
    assert _remote_of(book, crm, neu) == rid
    actions = [r.action for r in crm.audit.history(neu.id)]
    assert "sync_relink" in actions


def test_an_objection_deletes_the_remote_copy(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    crm.consents.object(person)
    report = crm.sync.round(book)
    assert book.items == {} and report.deleted_remote == 1
    assert any("objection" in r.reason for r in crm.audit.history(person.id)
               if r.action == "sync_delete_remote")  # fmt: skip


def test_the_access_report_names_the_sync_copies_as_recipients(crm: crmkit.CRM) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    report = crm.privacy.access_report(person)
    (recipient,) = report.data["recipients"]
    assert recipient["provider"] == "memory" and recipient["mailbox"] == book.mailbox
    assert recipient["remote_id"] == _remote_of(book, crm, person)


def test_a_remote_create_joins_the_filter_and_keeps_its_copy(crm: crmkit.CRM) -> None:
    where = SyncFilter(tags={"kunde"}, relationships={"customer"})
    book = MemoryBook()
    rid = book.external_create(given_name="Erika", surname="Neu", emails=("erika@neu.de",))
    crm.sync.round(book, where=where)
    (found,) = crm.search("Erika Neu")
    assert found.tags == {"kunde"} and {str(r) for r in found.relationships} == {"customer"}
    crm.sync.round(book, where=where)
    assert rid in book.items and book.values(rid)["categories"] == ("kunde",)
    assert crm.sync.status(found).state == "ok"


def test_an_invalid_remote_value_is_an_error_on_the_worklist_not_a_crash(
    crm: crmkit.CRM,
) -> None:
    person = _person(crm, "Weiß")
    book = MemoryBook()
    crm.sync.round(book)
    rid = _remote_of(book, crm, person)
    book.external_edit(rid, mobile_phone="kaputt")
    report = crm.sync.round(book)
    assert report.errors == 1 and crm.sync.status(person).state == "error"
    assert crm.contacts.get(person.id).phones == ()
    (item,) = [i for i in crm.worklist(today=NOW.date()) if i.kind == "sync.error"]
    assert "mobile" in item.reason("en") or "phone" in item.reason("en")
    assert crm.sync.round(book).errors == 1  # read again, still refused, no crash
    book.external_edit(rid, mobile_phone="+49 170 1234567")
    crm.sync.round(book)
    assert crm.sync.status(person).state == "ok"
    assert [p.e164 for p in crm.contacts.get(person.id).phones] == ["+491701234567"]
