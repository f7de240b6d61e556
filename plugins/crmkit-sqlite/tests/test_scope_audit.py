"""Row scopes and the audit log behave exactly as in the memory store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Affiliation, Company, Contact, CrmkitError, Person, link
from crmkit.audit import AuditRecord, FieldChange
from crmkit.auth import RowScope
from crmkit.memory import MemoryStore
from crmkit.search import analyze
from crmkit.store import Store
from crmkit_sqlite import SQLiteStore

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
OWNERS = ["anna", "ben", None]


def _outcome(call: Callable[[], object]) -> tuple[str, object]:
    try:
        return ("ok", call())
    except CrmkitError as exc:
        return ("error", type(exc).__name__)


contacts_st = st.lists(
    st.tuples(st.booleans(), st.sampled_from(OWNERS), st.booleans()), min_size=1, max_size=8
)
links_st = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=contacts_st, links=links_st)
def test_scoped_reads_agree_with_the_memory_store(
    specs: list[tuple[bool, str | None, bool]], links: list[tuple[int, int]]
) -> None:
    memory, sqlite = MemoryStore(), SQLiteStore()
    try:
        made: list[Contact] = []
        for i, (is_company, owner, archived) in enumerate(specs):
            contact = (
                Company(name=f"Muster {i} GmbH", owner=owner, phones=[f"+49 711 78193{i}0"])
                if is_company
                else Person(last_name=f"Müller {i}", owner=owner, phones=["+49 170 1234567"])
            )
            contact = attrs.evolve(contact, archived_at=T0 if archived else None)
            made.append(memory.add_contact(contact))
            assert sqlite.add_contact(contact) == made[-1]
        affs: list[Affiliation] = []
        for p, c in links:
            if p < len(made) and c < len(made):
                person, company = made[p], made[c]
                if isinstance(person, Person) and isinstance(company, Company):
                    aff = attrs.evolve(link(person, company), created_at=T0)
                    outcome = _outcome(partial(memory.add_affiliation, aff))
                    assert _outcome(partial(sqlite.add_affiliation, aff)) == outcome
                    if outcome[0] == "ok":
                        affs.append(aff)
        for owner in ("anna", "ben", "nobody"):
            for read in _scoped_reads(RowScope(owner=owner), made, affs):
                assert _outcome(partial(read, sqlite)) == _outcome(partial(read, memory))
    finally:
        sqlite.close()


def _scoped_reads(
    scope: RowScope, made: list[Contact], affs: list[Affiliation]
) -> list[Callable[[Store], object]]:
    """Every scoped read, as functions of a store."""

    def ids(found: list[Contact]) -> list[str]:
        return sorted(c.id for c in found)

    reads: list[Callable[[Store], object]] = [
        lambda s: list(s.iter_contacts(scope=scope)),
        lambda s: list(s.iter_contacts(include_archived=False, scope=scope)),
        lambda s: s.count_contacts(scope=scope),
        lambda s: s.count_contacts(include_archived=False, scope=scope),
        lambda s: s.search(analyze("Müller", include_archived=True), scope=scope),
        lambda s: s.search(analyze("", limit=3), scope=scope),
        lambda s: ids(s.find_by_phone("+491701234567", scope=scope)),
    ]
    for contact in made:
        cid, number = contact.id, contact.number or ""
        reads += [
            lambda s, cid=cid: s.get_contact(cid, scope=scope),  # type: ignore[misc]
            lambda s, n=number: s.get_contact_by_number(n, scope=scope),  # type: ignore[misc]
            lambda s, cid=cid: s.affiliations_of_person(cid, scope=scope),  # type: ignore[misc]
            lambda s, cid=cid: s.affiliations_of_company(cid, scope=scope),  # type: ignore[misc]
        ]
        for phone in contact.phones:
            direct = phone.e164[:-1] + "12"
            reads.append(
                lambda s, e=direct: ids(s.find_switchboards(e, scope=scope))  # type: ignore[misc]
            )
    for aff in affs:
        reads.append(lambda s, a=aff.id: s.get_affiliation(a, scope=scope))  # type: ignore[misc]
    return reads


def _record(i: int, entity: str | None = None, actor: str = "anna") -> AuditRecord:
    return AuditRecord(
        at=T0 + dt.timedelta(seconds=i),
        actor_id=actor,
        actor_name="Anna Groß",
        action="update",
        resource="contact",
        entity_id=entity,
        outcome="ok" if i % 3 else "denied",
        reason="Änderung der Anschrift",
        changes=(FieldChange(field="notes", old='"alt"', new='"neu – ✉"'),),
    )


def test_audit_log_is_kept_in_order_and_filtered(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    store = SQLiteStore(path)
    records = [
        _record(i, entity=f"c{i % 3}", actor="ben" if i % 2 else "anna") for i in range(2500)
    ]
    with store.transaction():
        for r in records:
            store.append_audit(r)
    store.close()
    store = SQLiteStore(path)
    try:
        assert list(store.iter_audit()) == records
        assert list(store.iter_audit(entity_id="c1")) == [r for r in records if r.entity_id == "c1"]
        assert list(store.iter_audit(entity_id="c2", actor_id="ben")) == [
            r for r in records if r.entity_id == "c2" and r.actor_id == "ben"
        ]
        assert list(store.iter_audit(actor_id="nobody")) == []
    finally:
        store.close()


def test_audit_records_roll_back_with_the_transaction() -> None:
    store = SQLiteStore()
    try:
        store.append_audit(_record(1))
        with pytest.raises(RuntimeError), store.transaction():
            store.append_audit(_record(2))
            store.add_contact(Person(last_name="Weg"))
            raise RuntimeError("undo")
        assert [r.at for r in store.iter_audit()] == [T0 + dt.timedelta(seconds=1)]
        store.close()
        with pytest.raises(CrmkitError):
            store.append_audit(_record(3))
        with pytest.raises(CrmkitError):
            store.iter_audit()
    finally:
        store.close()
