"""The provider-neutral sync core: field ownership, the three-way merge, links, the filter."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import crmkit
from crmkit.errors import PluginError, ValidationError
from crmkit.hookspecs import hookimpl
from crmkit.sync import (
    CONTACT_FIELDS,
    CRM_FIELDS,
    DEFAULT_FIELD_TABLE,
    PRIVATE_FIELDS,
    FieldRule,
    FieldTable,
    SyncFilter,
    SyncLink,
    SyncStatus,
    SyncValue,
    apply_values,
    contact_values,
    linked,
    merge,
    needs_push,
    select_contacts,
    snapshot_hash,
    unlinked,
)

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
ALL_FIELDS = (*CONTACT_FIELDS, *CRM_FIELDS, *PRIVATE_FIELDS)

values_st: st.SearchStrategy[SyncValue] = st.one_of(
    st.none(),
    st.sampled_from(["Müller", "Straße", "GmbH & Co. KG", "", "x"]),
    st.tuples(st.sampled_from(["a@b.de", "max@muster.de"])),
)
side_st = st.dictionaries(st.sampled_from(ALL_FIELDS), values_st, max_size=len(ALL_FIELDS))
direction_st = st.sampled_from(["crm_to_remote", "remote_to_crm", "both", "never"])
policy_st = st.sampled_from(["crm_wins", "remote_wins", "newest_wins", "ask"])
table_st = st.dictionaries(
    st.sampled_from(ALL_FIELDS), st.tuples(direction_st, policy_st), min_size=1
).map(lambda d: FieldTable(rules=d))
tables = st.one_of(st.just(DEFAULT_FIELD_TABLE), table_st)


def _synced(values: dict[str, SyncValue], table: FieldTable) -> dict[str, SyncValue]:
    return {f: values.get(f) for f in table.synced}


# ------------------------------------------------------------------ the field table


def test_default_table_follows_the_issue() -> None:
    for field in CONTACT_FIELDS:
        rule = DEFAULT_FIELD_TABLE.rule(field)
        assert (rule.direction, rule.policy) == ("both", "remote_wins")
    assert DEFAULT_FIELD_TABLE.rule("categories").direction == "crm_to_remote"
    for field in (*PRIVATE_FIELDS, "relationships", "roles", "consent", "notes", "lead"):
        assert DEFAULT_FIELD_TABLE.rule(field).direction == "never"
    assert DEFAULT_FIELD_TABLE.rule("unknown_field").direction == "never"
    assert not DEFAULT_FIELD_TABLE.to_crm() & set(CRM_FIELDS)


def test_table_from_a_mapping_and_changed_rules() -> None:
    table = DEFAULT_FIELD_TABLE.with_rules({"job_title": ("both", "crm_wins"), "title": "never"})
    assert table.rule("job_title").policy == "crm_wins"
    assert "title" not in table.synced
    with pytest.raises(ValidationError):
        FieldRule(field="x", direction="sideways")
    with pytest.raises(ValidationError):
        FieldRule(field="x", direction="both", policy="coin_flip")
    with pytest.raises(ValidationError):
        FieldTable(rules=[FieldRule(field="x", direction="both")] * 2)


# ------------------------------------------------------------------ the merge (properties)


@given(base=st.one_of(st.none(), side_st), x=side_st, table=tables)
@example(base={"surname": "Muster"}, x={"surname": "Müller"}, table=DEFAULT_FIELD_TABLE)
def test_merge_of_equal_sides_changes_nothing(
    base: dict[str, SyncValue] | None, x: dict[str, SyncValue], table: FieldTable
) -> None:
    result = merge(base, x, x, table)
    assert not result.to_crm and not result.to_remote and not result.conflicts
    assert dict(result.snapshot) == _synced(x, table)


@given(base=st.one_of(st.none(), side_st), crm=side_st, remote=side_st, table=tables)
def test_merge_never_writes_crm_owned_fields_to_the_crm(
    base: dict[str, SyncValue] | None,
    crm: dict[str, SyncValue],
    remote: dict[str, SyncValue],
    table: FieldTable,
) -> None:
    result = merge(base, crm, remote, table)
    assert set(result.to_crm) <= table.to_crm()
    assert set(result.to_remote) <= table.to_remote()
    for field in result.to_remote:
        assert result.to_remote[field] == crm.get(field)
    for field in result.to_crm:
        assert result.to_crm[field] == remote.get(field)


@given(base=st.one_of(st.none(), side_st), crm=side_st, remote=side_st, table=tables)
def test_private_fields_never_leave_or_enter(
    base: dict[str, SyncValue] | None,
    crm: dict[str, SyncValue],
    remote: dict[str, SyncValue],
    table: FieldTable,
) -> None:
    result = merge(base, crm, remote, table)
    never = {r.field for r in table.rules if r.direction == "never"} | {"not_in_table"}
    assert not never & set(result.to_remote)
    assert not never & set(result.to_crm)
    assert not never & set(result.snapshot)


@given(base=st.one_of(st.none(), side_st), crm=side_st, remote=side_st, table=tables)
def test_conflicts_are_reported_per_field_and_writes_make_both_sides_agree(
    base: dict[str, SyncValue] | None,
    crm: dict[str, SyncValue],
    remote: dict[str, SyncValue],
    table: FieldTable,
) -> None:
    result = merge(base, crm, remote, table)
    b = base or {}
    expected = {
        r.field
        for r in table.rules
        if r.direction == "both"
        and len({crm.get(r.field), remote.get(r.field)}) == 2
        and crm.get(r.field) != b.get(r.field)
        and remote.get(r.field) != b.get(r.field)
    }
    assert {c.field for c in result.conflicts} == expected
    pending = {c.field for c in result.pending}
    after_crm = {**crm, **result.to_crm}
    after_remote = {**remote, **result.to_remote}
    for field in table.synced:
        if field in pending:
            assert after_crm.get(field) == crm.get(field)
            assert after_remote.get(field) == remote.get(field)
        else:
            assert after_crm.get(field) == after_remote.get(field) == result.snapshot[field]
    # a second merge against the new snapshot finds nothing more to do
    again = merge(result.snapshot, after_crm, after_remote, table)
    assert not again.changed
    assert {c.field for c in again.conflicts} == pending


def test_policies_decide_a_true_conflict() -> None:
    base = {"job_title": "CEO"}
    crm = {"job_title": "CTO"}
    remote = {"job_title": "CFO"}

    def run(policy: str, **kw: dt.datetime) -> tuple[dict[str, SyncValue], dict[str, SyncValue]]:
        table = FieldTable(rules=[FieldRule(field="job_title", direction="both", policy=policy)])
        result = merge(base, crm, remote, table, **kw)  # type: ignore[arg-type]
        assert [c.field for c in result.conflicts] == ["job_title"]
        return dict(result.to_crm), dict(result.to_remote)

    assert run("crm_wins") == ({}, {"job_title": "CTO"})
    assert run("remote_wins") == ({"job_title": "CFO"}, {})
    assert run("ask") == ({}, {})
    later = T0 + dt.timedelta(hours=1)
    assert run("newest_wins", crm_changed_at=later, remote_changed_at=T0) == (
        {},
        {"job_title": "CTO"},
    )
    assert run("newest_wins", crm_changed_at=T0, remote_changed_at=later) == (
        {"job_title": "CFO"},
        {},
    )
    assert run("newest_wins") == ({}, {})  # no times: wait for a decision


def test_an_asked_conflict_is_decided_by_the_user() -> None:
    table = DEFAULT_FIELD_TABLE.with_rules({"surname": ("both", "ask")})
    first = merge({"surname": "A"}, {"surname": "B"}, {"surname": "C"}, table)
    assert [c.field for c in first.pending] == ["surname"]
    assert first.snapshot["surname"] == "A"
    decided = merge(
        {"surname": "A"}, {"surname": "B"}, {"surname": "C"}, table, decisions={"surname": "crm"}
    )
    assert dict(decided.to_remote) == {"surname": "B"} and not decided.pending


def test_a_remote_edit_of_a_crm_owned_field_is_set_back_and_reported() -> None:
    result = merge(
        {"categories": ("Kunde",)}, {"categories": ("Kunde",)}, {"categories": ("Privat",)}
    )
    assert dict(result.to_remote) == {"categories": ("Kunde",)}
    assert result.overridden == ("categories",)


# ------------------------------------------------------------------ contacts and values


def test_contact_values_and_back() -> None:
    person = crmkit.Person(
        first_name="Jürgen",
        last_name="Weiß",
        title="Dr.",
        emails=["juergen@weiss.de"],
        phones=["0711 123456", "0170 1234567"],
        addresses=[{"street": "Königstraße 1", "postal_code": "70173", "city": "Stuttgart"}],
        tags={"Kunde"},
        notes="intern: nie anrufen",
    )
    values = contact_values(person, company_name="Weiß GmbH", job_title="Geschäftsführer")
    assert values["given_name"] == "Jürgen" and values["surname"] == "Weiß"
    assert values["emails"] == ("juergen@weiss.de",)
    assert values["business_phones"] == ("+49711123456",)
    assert values["mobile_phone"] == "+491701234567"
    assert values["business_address"] == ("Königstraße 1", "70173", "Stuttgart", "DE")
    assert values["company_name"] == "Weiß GmbH" and values["categories"] == ("Kunde",)
    assert "notes" not in values
    changed = apply_values(
        person,
        {
            "surname": "Weiss",
            "emails": ("j.weiss@weiss.de", "juergen@weiss.de"),
            "mobile_phone": None,
            "business_address": ("Marktplatz 2", "70173", "Stuttgart", "DE"),
        },
    )
    assert isinstance(changed, crmkit.Person)
    assert changed.last_name == "Weiss" and changed.first_name == "Jürgen"
    assert [e.address for e in changed.emails] == ["j.weiss@weiss.de", "juergen@weiss.de"]
    assert [p.label for p in changed.phones] == ["office"]
    assert changed.addresses[0].street == "Marktplatz 2"
    assert changed.notes == person.notes and changed.tags == person.tags
    new_values = contact_values(changed, company_name="Weiß GmbH", job_title="Geschäftsführer")
    assert new_values["surname"] == "Weiss"


def test_company_values() -> None:
    company = crmkit.Company(name="Muster GmbH & Co. KG", emails=["info@muster.de"])
    values = contact_values(company)
    assert values["company_name"] == "Muster GmbH & Co. KG"
    assert values["given_name"] is None and values["surname"] is None


# ------------------------------------------------------------------ which contacts sync


def test_filter_and_contacts_without_email_are_skipped() -> None:
    a = crmkit.Person(last_name="A", emails=["a@x.de"], relationships={"customer"}, tags={"M365"})
    b = crmkit.Person(last_name="B", relationships={"customer"}, tags={"M365"})
    c = crmkit.Person(last_name="C", emails=["c@x.de"], relationships={"supplier"})
    d = crmkit.Person(last_name="D", emails=["d@x.de"], archived_at=T0)
    everyone = select_contacts([a, b, c, d])
    assert [x.last_name for x in everyone.syncing] == ["A", "C"]  # type: ignore[attr-defined]
    assert [x.last_name for x in everyone.skipped_no_email] == ["B"]  # type: ignore[attr-defined]
    customers = select_contacts([a, b, c, d], SyncFilter(relationships={"customer"}))
    assert [x.id for x in customers.syncing] == [a.id]
    assert [x.id for x in customers.skipped_no_email] == [b.id]
    tagged = select_contacts([a, b, c, d], SyncFilter(tags="M365", owners=()))
    assert [x.id for x in tagged.syncing] == [a.id]
    assert select_contacts([d], SyncFilter(include_archived=True)).syncing == (d,)


# ------------------------------------------------------------------ links and status


def test_link_after_a_round_and_after_a_remote_delete() -> None:
    person = crmkit.Person(last_name="Muster", emails=["m@x.de"], version=3)
    result = merge(None, {"surname": "Muster"}, {"surname": "Muster"})
    link = linked(
        contact=person,
        provider="m365",
        mailbox="anna@firma.de",
        folder="F1",
        remote_id="AAMk1",
        change_key="CK1",
        result=result,
        at=T0,
    )
    assert link.status == "ok" and link.crm_version == 3
    assert link.snapshot_hash == snapshot_hash(result.snapshot)
    assert not needs_push(link, person)
    assert needs_push(link, crmkit.Person(id=person.id, last_name="Muster", version=4))
    assert SyncLink.from_dict(link.to_dict()) == link
    gone = unlinked(link, at=T0, reason="deleted")
    assert gone.status == "unlinked" and gone.remote_id is None
    assert SyncStatus(contact_id=person.id, links=(link, gone)).state == "unlinked"
    assert SyncStatus(contact_id=person.id).state == "not_linked"
    conflict = merge(
        {"surname": "A"},
        {"surname": "B"},
        {"surname": "C"},
        DEFAULT_FIELD_TABLE.with_rules({"surname": ("both", "ask")}),
    )
    pending = linked(
        contact=person, provider="m365", mailbox="m", folder="F", remote_id="R",
        change_key=None, result=conflict, at=T0,
    )  # fmt: skip
    assert pending.status == "conflict" and pending.conflicts == ("surname",)
    with pytest.raises(ValidationError):
        SyncLink(contact_id="x", provider="m365", mailbox="m", status="weird")


# ------------------------------------------------------------------ the provider hook


class _Provider:
    name = "demo"

    def sync(self, crm: object, *, dry_run: bool = False) -> str:
        return f"synced (dry run: {dry_run})"


class _Plugin:
    @hookimpl
    def crmkit_register_sync_providers(self, register: object) -> None:
        register("demo", _Provider())  # type: ignore[operator]


def test_sync_providers_are_registered_through_the_hook() -> None:
    crm = crmkit.open("memory://", plugins=[_Plugin()], load_entry_points=False)
    providers = crm.hooks.sync_providers()
    assert list(providers) == ["demo"]
    assert providers["demo"].sync(crm, dry_run=True) == "synced (dry run: True)"
    twice = crmkit.open("memory://", plugins=[_Plugin(), _Plugin()], load_entry_points=False)
    with pytest.raises(PluginError):
        twice.hooks.sync_providers()

    class _Bad:
        @hookimpl
        def crmkit_register_sync_providers(self, register: object) -> None:
            register("bad", object())  # type: ignore[operator]

    bad = crmkit.open("memory://", plugins=[_Bad()], load_entry_points=False)
    with pytest.raises(PluginError):
        bad.hooks.sync_providers()
