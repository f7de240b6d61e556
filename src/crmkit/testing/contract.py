"""The contract tests.  See :mod:`crmkit.testing` for how to use them."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from crmkit.audit import AuditRecord, FieldChange
from crmkit.auth import RowScope
from crmkit.errors import ConflictError, CrmkitError, NotFoundError, StoreError, ValidationError
from crmkit.memory import MemoryStore
from crmkit.model import Address, Affiliation, Company, Contact, LeadInfo, Person, link
from crmkit.store import Store
from crmkit.testing.cockpit_contract import CockpitContract
from crmkit.testing.correspondence_contract import CorrespondenceContract
from crmkit.testing.segment_contract import SegmentContract
from crmkit.testing.sync_contract import SyncLinkContract

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def sample_person(**overrides: Any) -> Person:
    """A person with German data in every field the model has."""
    fields: dict[str, Any] = {
        "salutation": "Herr",
        "title": "Dr.",
        "first_name": "Jürgen",
        "last_name": "Müller-Lüdenscheidt",
        "emails": ["juergen.mueller@bäckerei-groß.de", "j.mueller@example.org"],
        "phones": ["0170 1234567", "+49 (0)711 781937-30"],
        "addresses": [
            Address(street="Königstraße 1", postal_code="70173", city="Stuttgart", label="home")
        ],
        "relationships": {"customer", "member"},
        "tags": {"Vorstand", "Newsletter ✉"},
        "notes": "Mag keine Anrufe vor 9 Uhr.\nBevorzugt E-Mail.",
        "owner": "anna",
        "lead": LeadInfo(source="Messe", budget=Decimal("12500.50"), status="qualified"),
        "customer_since": dt.date(2019, 4, 1),
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Person(**fields)


def sample_company(**overrides: Any) -> Company:
    """A company with German data."""
    fields: dict[str, Any] = {
        "name": "Bäckerei Groß GmbH & Co. KG",
        "emails": ["info@bäckerei-groß.de"],
        "phones": ["+49 711 781937-0"],
        "addresses": [Address(street="Hauptstr. 5", postal_code="70173", city="Stuttgart")],
        "relationships": "both",
        "website": "https://bäckerei-groß.de",
        "tags": {"Branche-Lebensmittel"},
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Company(**fields)


def _same_entity(a: Any, b: Any) -> bool:
    return bool(attrs.evolve(a, version=0) == attrs.evolve(b, version=0))


class StoreContract(CorrespondenceContract, CockpitContract, SegmentContract, SyncLinkContract):
    """Behaviour every :class:`crmkit.store.Store` must show.

    The correspondence tests come from
    :class:`~crmkit.testing.correspondence_contract.CorrespondenceContract`,
    those of the worklist queries from
    :class:`~crmkit.testing.cockpit_contract.CockpitContract`, segments from
    :class:`~crmkit.testing.segment_contract.SegmentContract`, those of the
    optional sync links from :class:`~crmkit.testing.sync_contract.SyncLinkContract`.

    Provide a ``store_factory`` fixture returning a zero-argument callable
    that makes a fresh, empty store.
    """

    @pytest.fixture
    def store_factory(self) -> Callable[[], Store]:
        """Override: return a callable that makes a fresh, empty store."""
        raise NotImplementedError("subclasses provide a store_factory fixture")

    @pytest.fixture
    def store(self, store_factory: Callable[[], Store]) -> Iterator[Store]:
        """A fresh, empty store, closed after the test."""
        s = store_factory()
        yield s
        try:
            s.close()
        except StoreError:
            pass

    # -- basics -------------------------------------------------------------
    def test_satisfies_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.count_contacts() == 0
        assert list(store.iter_contacts()) == []

    def test_add_allocates_sequential_numbers_and_version_1(self, store: Store) -> None:
        a = store.add_contact(sample_company())
        b = store.add_contact(sample_person())
        assert (a.number, b.number) == ("C00001", "C00002")
        assert a.version == b.version == 1

    def test_round_trip_keeps_every_field(self, store: Store) -> None:
        person = sample_person()
        stored = store.add_contact(person)
        loaded = store.get_contact(person.id)
        assert loaded == stored
        assert attrs.evolve(loaded, number=None, version=0) == person
        assert isinstance(loaded, Person)
        assert loaded.last_name == "Müller-Lüdenscheidt"
        company = store.add_contact(sample_company())
        loaded_company = store.get_contact_by_number(company.number or "")
        assert isinstance(loaded_company, Company)
        assert loaded_company.legal_form == "GmbH & Co. KG"
        assert loaded_company.base_name == "Bäckerei Groß"
        assert loaded_company == company

    def test_get_missing_raises_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.get_contact("nope")
        with pytest.raises(NotFoundError):
            store.get_contact_by_number("C99999")
        with pytest.raises(NotFoundError):
            store.get_affiliation("nope")

    def test_duplicate_id_or_number_is_a_conflict(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        with pytest.raises(ConflictError):
            store.add_contact(attrs.evolve(p, number=None, version=0))
        with pytest.raises(ConflictError):
            store.add_contact(sample_person(id="other1", number=p.number))
        assert store.count_contacts() == 1

    def test_explicit_number_is_kept_and_sequence_moves_past_it(self, store: Store) -> None:
        store.add_contact(sample_person(number="C00042"))
        nxt = store.add_contact(sample_company())
        assert nxt.number == "C00043"

    def test_numbers_are_never_reused(self, store: Store) -> None:
        a = store.add_contact(sample_person())
        store.delete_contact(a.id)
        b = store.add_contact(sample_company())
        assert b.number == "C00002"

    def test_update_bumps_version_and_rejects_stale_writes(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        p2 = store.update_contact(attrs.evolve(p, notes="neu"))
        assert p2.version == 2
        assert store.get_contact(p.id).notes == "neu"
        with pytest.raises(ConflictError):
            store.update_contact(attrs.evolve(p, notes="veraltet"))
        assert store.get_contact(p.id) == p2

    def test_update_cannot_change_number_or_kind(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        p2 = store.update_contact(attrs.evolve(p, number="C12345"))
        assert p2.number == p.number
        with pytest.raises(ValidationError):
            store.update_contact(sample_company(id=p.id, version=p2.version))
        with pytest.raises(NotFoundError):
            store.update_contact(sample_person(id="missing1", version=1))

    def test_iter_is_ordered_by_number_and_filters_archived(self, store: Store) -> None:
        made = [store.add_contact(sample_person(last_name=f"P{i}")) for i in range(12)]
        archived = store.update_contact(attrs.evolve(made[3], archived_at=T0))
        assert [c.number for c in store.iter_contacts()] == [c.number for c in made]
        active = list(store.iter_contacts(include_archived=False))
        assert archived.id not in {c.id for c in active}
        assert len(active) == 11
        assert store.count_contacts() == 12
        assert store.count_contacts(include_archived=False) == 11

    # -- transactions ---------------------------------------------------------
    def test_batch_is_all_or_nothing(self, store: Store) -> None:
        first = sample_person()
        batch = [first, sample_company(), attrs.evolve(first, number=None)]
        with pytest.raises(ConflictError):
            store.add_contacts(batch)
        assert store.count_contacts() == 0
        assert store.add_contact(sample_company()).number == "C00001"

    def test_transaction_rolls_back_on_error(self, store: Store) -> None:
        kept = store.add_contact(sample_company())
        with pytest.raises(RuntimeError), store.transaction():
            store.add_contact(sample_person())
            store.update_contact(attrs.evolve(kept, notes="geändert"))
            store.delete_contact(kept.id)
            raise RuntimeError("boom")
        assert store.count_contacts() == 1
        assert store.get_contact(kept.id) == kept

    def test_nested_transaction_joins_outer(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            with store.transaction():
                store.add_contact(sample_person())
            assert store.count_contacts() == 1
            raise RuntimeError("outer fails")
        assert store.count_contacts() == 0

    def test_rollback_restores_affiliations(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        c = store.add_contact(sample_company())
        aff = store.add_affiliation(link(p, c, roles={"billing"}))
        with pytest.raises(RuntimeError), store.transaction():
            store.delete_contact(c.id)
            raise RuntimeError("undo")
        assert store.affiliations_of_company(c.id) == [aff]

    def test_two_threads_racing_on_one_contact(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        barrier = threading.Barrier(2)
        results: list[str] = []

        def worker(note: str) -> None:
            barrier.wait()
            try:
                store.update_contact(attrs.evolve(p, notes=note))
                results.append("ok")
            except ConflictError:
                results.append("conflict")

        threads = [threading.Thread(target=worker, args=(n,)) for n in ("eins", "zwei")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == ["conflict", "ok"]
        assert store.get_contact(p.id).version == 2

    # -- affiliations --------------------------------------------------------
    def test_affiliations(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        q = store.add_contact(sample_person(first_name="Erika", last_name="Mustermann"))
        c = store.add_contact(sample_company())
        a1 = store.add_affiliation(
            attrs.evolve(link(q, c, position="Buchhaltung", roles={"billing"}), created_at=T0)
        )
        a2 = store.add_affiliation(
            attrs.evolve(
                link(p, c, position="Geschäftsführer", roles={"decision_maker"}, primary=True),
                created_at=T0 + dt.timedelta(days=1),
            )
        )
        assert a1.version == 1
        assert store.affiliations_of_company(c.id) == [a2, a1]
        assert store.affiliations_of_person(p.id) == [a2]
        assert store.get_affiliation(a1.id) == a1
        a1b = store.update_affiliation(attrs.evolve(a1, department="Finanzen"))
        assert a1b.version == 2
        with pytest.raises(ConflictError):
            store.update_affiliation(attrs.evolve(a1, department="alt"))
        store.delete_affiliation(a1.id)
        assert store.affiliations_of_company(c.id) == [a2]
        with pytest.raises(NotFoundError):
            store.delete_affiliation(a1.id)

    def test_affiliation_needs_existing_contacts_of_the_right_kind(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        c = store.add_contact(sample_company())
        ghost = sample_company(id="ghost1")
        with pytest.raises(NotFoundError):
            store.add_affiliation(link(p, ghost))
        with pytest.raises(ValidationError):
            store.add_affiliation(Affiliation(person_id=c.id, company_id=p.id))
        assert store.affiliations_of_person(p.id) == []

    def test_delete_contact_removes_its_affiliations(self, store: Store) -> None:
        p = store.add_contact(sample_person())
        c = store.add_contact(sample_company())
        store.add_affiliation(link(p, c))
        store.delete_contact(p.id)
        assert store.affiliations_of_company(c.id) == []
        with pytest.raises(NotFoundError):
            store.get_contact(p.id)
        with pytest.raises(NotFoundError):
            store.delete_contact(p.id)

    def test_closed_store_refuses_work(self, store_factory: Callable[[], Store]) -> None:
        s = store_factory()
        s.close()
        with pytest.raises(StoreError):
            s.count_contacts()
        with pytest.raises(StoreError):
            s.add_contact(sample_person())

    # -- search and caller-id ---------------------------------------------------
    @pytest.fixture
    def people(self, store: Store) -> dict[str, Contact]:
        """A small directory for the search tests, stored in *store*."""
        made: dict[str, Contact] = {}

        def add(key: str, contact: Contact) -> None:
            made[key] = store.add_contact(contact)

        add(
            "muster",
            Company(
                name="Muster GmbH",
                emails=["info@muster.de"],
                phones=["+49 123 456-0"],
                relationships={"customer"},
                tags={"Branche-IT"},
            ),
        )
        add(
            "muster_kg",
            Company(
                name="Muster Bau GmbH & Co. KG",
                relationships={"supplier"},
                emails=["kontakt@muster-bau.de"],
                tags={"Branche-IT"},
            ),
        )
        add(
            "max",
            Person(
                first_name="Max",
                last_name="Mustermann",
                emails=["max.mustermann@muster.de"],
                phones=["0170 1234567"],
                relationships={"customer"},
            ),
        )
        add(
            "mueller",
            Person(
                first_name="Jürgen",
                last_name="Müller",
                emails=["j.mueller@example.org"],
                phones=["030 12345678"],
            ),
        )
        add("mueller2", Person(first_name="Anna", last_name="Mueller", emails=["anna@MUSTER.de"]))
        add("direct", Person(first_name="Erika", last_name="Direkt", phones=["+49 123 456-123"]))
        add("old", Person(first_name="Otto", last_name="Müller", archived_at=T0))
        add(
            "groß",
            Company(
                name="Bäckerei Groß e.K.", relationships={"customer"}, phones=["+49 711 7819370"]
            ),
        )
        return made

    def _names(self, result: list[Contact]) -> list[str]:
        return [c.display_name for c in result]

    def _search(self, store: Store, text: str, **filters: Any) -> list[str]:
        from crmkit.search import analyze, select

        query = analyze(text, **filters)
        result = store.search(query)
        assert result == select(store.iter_contacts(), query)
        return self._names(result)

    def test_search_by_names_in_any_order(self, store: Store, people: dict[str, Contact]) -> None:
        assert self._search(store, "Mustermann") == ["Max Mustermann"]
        assert self._search(store, "max") == ["Max Mustermann"]
        assert self._search(store, "Mustermann Max") == ["Max Mustermann"]
        assert self._search(store, "max mustermann") == ["Max Mustermann"]

    def test_search_folds_umlauts_and_case(self, store: Store, people: dict[str, Contact]) -> None:
        expected = ["Jürgen Müller", "Anna Mueller"]
        assert self._search(store, "Müller") == expected
        assert self._search(store, "MÜLLER") == expected
        assert self._search(store, "mueller") == expected
        assert self._search(store, "juergen") == ["Jürgen Müller"]
        assert self._search(store, "Groß") == ["Bäckerei Groß e.K."]
        assert self._search(store, "gross") == ["Bäckerei Groß e.K."]

    def test_search_companies_with_or_without_legal_form(
        self, store: Store, people: dict[str, Contact]
    ) -> None:
        assert self._search(store, "Muster", kind="company") == [
            "Muster GmbH",
            "Muster Bau GmbH & Co. KG",
        ]
        assert self._search(store, "Muster GmbH")[0] == "Muster GmbH"
        assert self._search(store, "Muster GmbH & Co. KG") == ["Muster Bau GmbH & Co. KG"]

    def test_search_prefix_ranks_after_exact(
        self, store: Store, people: dict[str, Contact]
    ) -> None:
        assert self._search(store, "Muste") == [
            "Muster GmbH",
            "Muster Bau GmbH & Co. KG",
            "Max Mustermann",
        ]
        assert self._search(store, "Muster") == [
            "Muster GmbH",
            "Muster Bau GmbH & Co. KG",
            "Max Mustermann",
        ]
        assert self._search(store, "Muster", limit=1) == ["Muster GmbH"]

    def test_search_by_email_domain_number_and_phone(
        self, store: Store, people: dict[str, Contact]
    ) -> None:
        assert self._search(store, "max.mustermann@muster.de") == ["Max Mustermann"]
        assert self._search(store, "Max.Mustermann@MUSTER.DE") == ["Max Mustermann"]
        domain = ["Muster GmbH", "Max Mustermann", "Anna Mueller"]
        assert self._search(store, "@muster.de") == domain
        assert self._search(store, "muster.de") == domain
        assert self._search(store, people["max"].number or "") == ["Max Mustermann"]
        assert self._search(store, (people["max"].number or "").lower()) == ["Max Mustermann"]
        for text in ("0170 1234567", "+49 170 1234567", "0049-170-1234567", "+491701234567"):
            assert self._search(store, text) == ["Max Mustermann"], text
        assert self._search(store, "C99999") == []

    def test_search_filters_combine(self, store: Store, people: dict[str, Contact]) -> None:
        assert self._search(
            store, "", kind="company", relationships={"customer"}, tags={"Branche-IT"}
        ) == ["Muster GmbH"]
        assert self._search(store, "", kind="company", tags="Branche-IT") == [
            "Muster GmbH",
            "Muster Bau GmbH & Co. KG",
        ]
        assert self._search(store, "muster", kind="person") == ["Max Mustermann"]
        assert self._search(store, "", relationships="both", kind="company") == [
            "Muster GmbH",
            "Muster Bau GmbH & Co. KG",
            "Bäckerei Groß e.K.",
        ]

    def test_search_leaves_out_archived_unless_asked(
        self, store: Store, people: dict[str, Contact]
    ) -> None:
        assert "Otto Müller" not in self._search(store, "Müller")
        assert "Otto Müller" in self._search(store, "Müller", include_archived=True)

    @pytest.mark.parametrize(
        "text",
        [
            '"',
            "'",
            'Muster\\" OR 1=1 --',
            "(",
            ")",
            "AND",
            "OR",
            "NOT",
            "NEAR",
            "Muster NEAR/2 Max",
            "*",
            "-",
            "Mus*",
            "-Muster",
            "^Muster",
            "Muster:",
            "{a b}",
            "😀",
            "Muster 😀",
            "\x00",
            "\x00Muster",
            "a" * 10_000,
            "'; DROP TABLE contacts; --",
            "%",
            "_",
            "[",
            "C0000%",
            "@",
            "@@",
            ".de",
            "+",
            "+49",
            "((0))",
            "\u202e",
        ],
    )
    def test_search_is_safe_for_any_text(
        self, store: Store, people: dict[str, Contact], text: str
    ) -> None:
        self._search(store, text)
        self._search(store, text, kind="company", tags={text[:50] or "x"})
        assert store.count_contacts() == len(people)

    def test_search_agrees_with_select_for_random_text(
        self, store: Store, people: dict[str, Contact]
    ) -> None:
        words = st.sampled_from(
            [
                "Muster",
                "müll",
                "MAX",
                "gmbh",
                "&",
                "co",
                "kg",
                "e.K.",
                "@muster.de",
                "0170",
                "C0000",
                "Groß",
                "OR",
                "*",
                '"',
            ]
        )
        texts = st.one_of(st.text(max_size=40), st.lists(words, max_size=4).map(" ".join))

        @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
        @given(text=texts)
        def check(text: str) -> None:
            self._search(store, text)

        check()

    def test_phone_lookup(self, store: Store, people: dict[str, Contact]) -> None:
        from crmkit.search import phone_matches

        def lookup(e164: str) -> list[tuple[str, str]]:
            found = phone_matches(e164, store.find_by_phone(e164), store.find_switchboards(e164))
            return [(m.contact.display_name, m.match) for m in found]

        assert lookup("+491701234567") == [("Max Mustermann", "exact")]
        assert lookup("+491234560") == [("Muster GmbH", "exact")]
        assert lookup("+49123456123") == [("Erika Direkt", "exact")]
        assert lookup("+49123456124") == [("Muster GmbH", "switchboard")]
        assert lookup("+4971178193755") == [("Bäckerei Groß e.K.", "switchboard")]
        assert lookup("+4989999999") == []

    # -- row scopes -------------------------------------------------------------------
    def test_row_scope_limits_every_read(self, store: Store) -> None:
        from crmkit.search import analyze

        anna = RowScope(owner="anna")
        a = store.add_contact(sample_company(name="Anna Handel GmbH", owner="anna",
                                             phones=["+49 711 5550"]))  # fmt: skip
        b = store.add_contact(sample_company(name="Ben Bau GmbH", owner="ben",
                                             phones=["+49 711 6660"]))  # fmt: skip
        p1 = store.add_contact(sample_person(last_name="Eins", owner=None,
                                             phones=["0170 1111111"]))  # fmt: skip
        p2 = store.add_contact(sample_person(last_name="Zwei", owner="anna", phones=[]))
        p3 = store.add_contact(sample_person(last_name="Drei", owner="ben",
                                             phones=["0170 3333333"]))  # fmt: skip
        p4 = store.add_contact(sample_person(last_name="Vier", owner=None, phones=[]))
        store.add_affiliation(link(p1, a))
        aff_b = store.add_affiliation(link(p4, b))
        store.add_affiliation(link(p4, a))
        visible = {a.id, p1.id, p2.id, p4.id}
        assert {c.id for c in store.iter_contacts(scope=anna)} == visible
        assert store.count_contacts(scope=anna) == 4
        assert store.count_contacts() == 6
        assert store.get_contact(p1.id, scope=anna) == p1
        for hidden in (b, p3):
            with pytest.raises(NotFoundError):
                store.get_contact(hidden.id, scope=anna)
            with pytest.raises(NotFoundError):
                store.get_contact_by_number(hidden.number or "", scope=anna)
        assert {c.id for c in store.search(analyze(""), scope=anna)} == visible
        assert store.search(analyze("Drei"), scope=anna) == []
        assert store.search(analyze("Drei")) == [p3]
        assert store.find_by_phone("+491703333333", scope=anna) == []
        assert store.find_by_phone("+491701111111", scope=anna) == [p1]
        assert store.find_switchboards("+4971166612", scope=anna) == []
        assert store.find_switchboards("+4971155512", scope=anna) == [a]
        # p4 is visible (through company a), so its link to b is too; b itself is not.
        assert store.affiliations_of_company(b.id, scope=anna) == [aff_b]
        assert store.get_affiliation(aff_b.id, scope=anna) == aff_b
        assert len(store.affiliations_of_person(p4.id, scope=anna)) == 2
        store.delete_affiliation(aff_b.id)
        with pytest.raises(NotFoundError):
            store.get_affiliation(aff_b.id, scope=anna)

    # -- audit log ----------------------------------------------------------------------
    def test_audit_log_appends_and_rolls_back(self, store: Store) -> None:
        def record(i: int, entity: str, actor: str = "anna") -> AuditRecord:
            return AuditRecord(
                at=T0 + dt.timedelta(seconds=i), actor_id=actor, actor_name="Anna Ä.",
                action="update", resource="contact", entity_id=entity,
                changes=(FieldChange(field="notes", old='"alt"', new='"neu – ü"'),),
            )  # fmt: skip

        first, second, third = record(1, "x"), record(2, "y", "ben"), record(3, "x")
        for r in (first, second, third):
            store.append_audit(r)
        assert list(store.iter_audit()) == [first, second, third]
        assert list(store.iter_audit(entity_id="x")) == [first, third]
        assert list(store.iter_audit(actor_id="ben")) == [second]
        with pytest.raises(RuntimeError), store.transaction():
            store.append_audit(record(4, "z"))
            raise RuntimeError("undo")
        assert len(list(store.iter_audit())) == 3

    # -- random operation sequences against the memory store -------------------
    def test_agrees_with_memory_store(self, store_factory: Callable[[], Store]) -> None:
        factory = store_factory

        class Machine(_Agreement):
            def __init__(self) -> None:
                super().__init__(factory())

        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )


_names = st.sampled_from(["Müller", "Mueller", "Groß", "Straße", "Ödön", "Zoë", "Ñandú", "Li"])


class _Agreement(RuleBasedStateMachine):
    """Random operations on the backend and a MemoryStore must give the same results."""

    ids = Bundle("ids")
    affs = Bundle("affs")

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.model = MemoryStore()

    def teardown(self) -> None:
        self.store.close()

    def _both(self, op: Callable[[Store], Any]) -> Any:
        outcomes = []
        for s in (self.model, self.store):
            try:
                outcomes.append(("ok", op(s)))
            except CrmkitError as exc:
                outcomes.append(("error", type(exc).__name__))
        assert outcomes[0][0] == outcomes[1][0], outcomes
        if outcomes[0][0] == "error":
            assert outcomes[0][1] == outcomes[1][1], outcomes
        return outcomes[0]

    @rule(target=ids, name=_names, company=st.booleans())
    def add(self, name: str, company: bool) -> str:
        c: Contact = (
            sample_company(name=f"{name} GmbH") if company else sample_person(last_name=name)
        )
        status, value = self._both(lambda s: s.add_contact(c))
        assert status == "ok"
        return str(value.id)

    @rule(contact_id=ids, note=_names)
    def update(self, contact_id: str, note: str) -> None:
        def op(s: Store) -> Contact:
            current = s.get_contact(contact_id)
            return s.update_contact(attrs.evolve(current, notes=note))

        self._both(op)

    @rule(contact_id=ids, stale=st.integers(0, 3))
    def stale_update(self, contact_id: str, stale: int) -> None:
        def op(s: Store) -> Contact:
            current = s.get_contact(contact_id)
            return s.update_contact(attrs.evolve(current, version=stale, notes="x"))

        self._both(op)

    @rule(contact_id=consumes(ids))
    def delete(self, contact_id: str) -> None:
        self._both(lambda s: s.delete_contact(contact_id))

    @rule(target=affs, a=ids, b=ids, primary=st.booleans())
    def affiliate(self, a: str, b: str, primary: bool) -> str:
        aff = Affiliation(
            person_id=a if a != b else "x" + a[1:], company_id=b, primary=primary, created_at=T0
        )
        self._both(lambda s: s.add_affiliation(aff))
        return aff.id

    @rule(aff=affs)
    def unlink(self, aff: str) -> None:
        self._both(lambda s: s.delete_affiliation(aff))

    @rule(batch=st.lists(_names, min_size=1, max_size=4), fail=st.booleans())
    def batch(self, batch: list[str], fail: bool) -> None:
        people = [sample_person(last_name=n) for n in batch]
        if fail:
            people.append(people[0])
        self._both(lambda s: [c.id for c in s.add_contacts(people)])

    @invariant()
    def same_contents(self) -> None:
        mine = list(self.model.iter_contacts())
        theirs = list(self.store.iter_contacts())
        assert [(c.id, c.number, c.version) for c in mine] == [
            (c.id, c.number, c.version) for c in theirs
        ]
        assert all(_same_entity(a, b) for a, b in zip(mine, theirs, strict=True))
        for c in mine:
            if isinstance(c, Company):
                assert self.model.affiliations_of_company(c.id) == (
                    self.store.affiliations_of_company(c.id)
                )
