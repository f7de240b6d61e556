"""KPIs as pure functions: fixed dates, expected values computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
import doctest
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import kpis, kpis_api
from crmkit.audit import AuditRecord, FieldChange
from crmkit.kpis import Period, Revenue, Spell

UTC = dt.UTC


def _person(name: str, **kw: object) -> crmkit.Person:
    return crmkit.Person(first_name=name, last_name="Muster", **kw)


def _lead(source: str | None, status: str, since: dt.date, closed: dt.date | None = None) -> object:
    return crmkit.LeadInfo(source=source, status=status, since=since, closed_on=closed)


# -- periods ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31)),
        ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        ("2028-02", dt.date(2028, 2, 1), dt.date(2028, 2, 29)),  # leap year
        ("2026-09", dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
        ("2026-03-05..2026-03-07", dt.date(2026, 3, 5), dt.date(2026, 3, 7)),
    ],
)
def test_period_parse(text: str, start: dt.date, end: dt.date) -> None:
    p = Period.parse(text)
    assert (p.start, p.end, str(p)) == (start, end, text)
    assert start in p and end in p and start - dt.timedelta(days=1) not in p


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "26", "2026-07-01..2026-06-30", "", "Q3"])
def test_period_parse_rejects_with_the_field(text: str) -> None:
    with pytest.raises(crmkit.ValidationError) as info:
        Period.parse(text)
    assert info.value.findings[0].field == "period"


@given(st.text(max_size=30))
def test_period_parse_never_fails_otherwise(text: str) -> None:
    try:
        p = Period.parse(text)
    except crmkit.ValidationError as exc:
        assert exc.findings[0].field == "period"
    else:
        assert p.start <= p.end and p.days >= 1


def test_quarter_of() -> None:
    assert str(Period.quarter_of(dt.date(2026, 11, 23))) == "2026-Q4"
    assert Period.parse("2026-Q4").days == 92  # 31 + 30 + 31


# -- leads ------------------------------------------------------------------------------------
@pytest.fixture
def leads() -> list[crmkit.Contact]:
    q3 = dt.date(2026, 7, 1)
    return [
        # new in Q3 from Messe, won after 20 days (within Q3)
        _person("A", lead=_lead("Messe", "won", q3, dt.date(2026, 7, 21))),
        # new in Q3 from Messe, won after 40 days
        _person("B", lead=_lead("Messe", "won", dt.date(2026, 8, 1), dt.date(2026, 9, 10))),
        # new in Q3 from the web, lost in Q3
        _person("C", lead=_lead("Website", "lost", dt.date(2026, 9, 30), dt.date(2026, 9, 30))),
        # new in Q2 (not counted as new), won in Q3 after 100 days
        _person("D", lead=_lead("Messe", "won", dt.date(2026, 4, 1), dt.date(2026, 7, 10))),
        # new in Q3 without a source, still open
        _person("E", lead=_lead(None, "contacted", dt.date(2026, 8, 15))),
        # open since 2025-01-01: over 12 months on 2026-10-05
        _person("F", lead=_lead("Messe", "new", dt.date(2025, 1, 1))),
        # open since 2026-05-01: 157 days on 2026-10-05 -> 90 days to 12 months
        _person("G", lead=_lead("Website", "qualified", dt.date(2026, 5, 1))),
        # won in Q4: outside
        _person("H", lead=_lead("Website", "won", dt.date(2026, 6, 1), dt.date(2026, 10, 1))),
        _person("I"),  # no lead at all
    ]


def test_new_leads_per_source(leads: list[crmkit.Contact]) -> None:
    # Q3 starts: A, B (Messe), C (Website), E (none)
    assert kpis.new_leads(leads, Period.parse("2026-Q3")) == {"Messe": 2, "Website": 1, "—": 1}
    # September only: C
    assert kpis.new_leads(leads, Period.parse("2026-09")) == {"Website": 1}


def test_lead_conversion(leads: list[crmkit.Contact]) -> None:
    # closed in Q3: A won (20 d), B won (40 d), C lost, D won (100 d) -> 3 / 4, median 40
    assert kpis.lead_conversion(leads, Period.parse("2026-Q3")) == {
        "won": 3,
        "lost": 1,
        "conversion_rate": 0.75,
        "median_days_to_conversion": 40.0,
    }
    # nothing closed in 2027
    assert kpis.lead_conversion(leads, Period.parse("2027")) == {
        "won": 0,
        "lost": 0,
        "conversion_rate": None,
        "median_days_to_conversion": None,
    }


def test_open_leads_by_age(leads: list[crmkit.Contact]) -> None:
    # open on 2026-10-05: E (51 days), F (642 days), G (157 days)
    assert kpis.open_leads_by_age(leads, dt.date(2026, 10, 5)) == {
        "under_90_days": 1,
        "90_days_to_12_months": 1,
        "over_12_months": 1,
    }
    # the boundaries: 89 days is new, 90 days is older, 365 still within, 366 over
    base = dt.date(2026, 1, 1)
    ages = [89, 90, 365, 366]
    edge = [_person(str(a), lead=_lead(None, "new", base - dt.timedelta(days=a))) for a in ages]
    assert kpis.open_leads_by_age(edge, base) == {
        "under_90_days": 1,
        "90_days_to_12_months": 2,
        "over_12_months": 1,
    }


def test_lead_funnel(leads: list[crmkit.Contact]) -> None:
    # all: A, B, D, H won (each through every stage), C lost (new only), E contacted,
    # F new, G qualified
    assert kpis.lead_funnel(leads) == {
        "new": 8,
        "contacted": 6,  # A B D H E G
        "qualified": 5,  # A B D H G
        "proposal": 4,
        "won": 4,
    }
    # started in Q3: A, B (won), C (lost), E (contacted)
    assert kpis.lead_funnel(leads, Period.parse("2026-Q3")) == {
        "new": 4,
        "contacted": 3,
        "qualified": 2,
        "proposal": 2,
        "won": 2,
    }


# -- customers --------------------------------------------------------------------------------
def _change(contact: crmkit.Contact, day: dt.date, old: str, new: str) -> AuditRecord:
    return AuditRecord(
        actor_id="test",
        action="update",
        resource="contact",
        entity_id=contact.id,
        at=dt.datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
        changes=(FieldChange(field="relationships", old=old, new=new),),
    )


def test_customer_spells_from_the_audit_log() -> None:
    c = _person("K", relationships={"customer"})
    history = [
        _change(c, dt.date(2025, 3, 1), '["lead"]', '["customer"]'),
        _change(c, dt.date(2025, 9, 1), '["customer"]', '["former_customer"]'),
        _change(c, dt.date(2026, 2, 1), '["former_customer"]', '["customer"]'),
    ]
    assert kpis.customer_spells(c, history) == [
        Spell(c.id, dt.date(2025, 3, 1), dt.date(2025, 8, 31)),
        Spell(c.id, dt.date(2026, 2, 1), None),
    ]


def test_customer_spells_without_history_and_customer_since() -> None:
    imported = _person("L", relationships={"customer"}, customer_since=dt.date(2020, 5, 1))
    assert kpis.customer_spells(imported, []) == [Spell(imported.id, dt.date(2020, 5, 1))]
    assert kpis.customer_spells(_person("M", relationships={"lead"}), []) == []
    archived = _person(
        "N",
        relationships={"customer"},
        customer_since=dt.date(2024, 1, 1),
        archived_at=dt.datetime(2026, 8, 1, 12, tzinfo=UTC),
    )
    assert kpis.customer_spells(archived, []) == [
        Spell(archived.id, dt.date(2024, 1, 1), dt.date(2026, 8, 1))
    ]


@pytest.fixture
def spells() -> list[Spell]:
    return [
        Spell("a", dt.date(2025, 1, 1)),  # customer throughout
        Spell("b", dt.date(2025, 6, 1), dt.date(2026, 8, 15)),  # lost in Q3
        Spell("c", dt.date(2026, 7, 10)),  # new in Q3
        Spell("d", dt.date(2024, 1, 1), dt.date(2026, 6, 30)),  # left before Q3
        Spell("e", dt.date(2026, 3, 1)),  # customer at the start, stays
        Spell("f", dt.date(2024, 2, 1), dt.date(2024, 12, 31)),  # first spell...
        Spell("f", dt.date(2026, 8, 1)),  # ...comes back in Q3: not new
    ]


def test_active_retention_churn_and_new(spells: list[Spell]) -> None:
    q3 = Period.parse("2026-Q3")
    assert kpis.active_customers(spells, q3.start) == {"a", "b", "e"}
    assert kpis.active_customers(spells, q3.end) == {"a", "c", "e", "f"}
    kept = kpis.retention(spells, q3)
    # at the start a, b, e; at the end a and e of them -> 2/3 kept, 1/3 lost
    assert (kept.at_start, kept.retained, kept.lost) == (3, 2, 1)
    assert kept.rate == pytest.approx(2 / 3)
    assert kept.churn == pytest.approx(1 / 3)
    assert kpis.new_customers(spells, q3) == {"c"}
    assert kpis.retention([], q3).rate is None and kpis.retention([], q3).churn is None


def test_silent_customers() -> None:
    today = dt.date(2026, 10, 5)
    # 12 "months" = 360 days -> limit 2025-10-10
    last = {
        "a": dt.datetime(2025, 10, 10, 8, tzinfo=UTC),  # exactly on the limit: not silent
        "b": dt.datetime(2025, 10, 9, 23, tzinfo=UTC),  # the day before: silent
        "c": None,  # never: silent
    }
    assert kpis.silent_customers(["a", "b", "c", "d"], last, today) == ["b", "c", "d"]
    assert kpis.silent_customers(["a", "b"], last, today, months=1) == ["a", "b"]


# -- revenue ----------------------------------------------------------------------------------
@pytest.fixture
def revenue() -> list[Revenue]:
    def r(cid: str, amount: str, day: dt.date, currency: str = "EUR") -> Revenue:
        return Revenue(contact_id=cid, amount=amount, currency=currency, on=day)

    return [
        r("a", "100.00", dt.date(2026, 7, 1)),
        r("a", "250.50", dt.date(2026, 9, 30)),
        r("b", "49.50", dt.date(2026, 8, 1)),
        r("b", "1000", dt.date(2026, 8, 2), "CHF"),  # other currency: left out
        r("c", "600.00", dt.date(2026, 6, 30)),  # Q2
        r("a", "-50.00", dt.date(2026, 10, 1)),  # credit note in Q4
    ]


def test_revenue_per_customer_and_average_order(revenue: list[Revenue]) -> None:
    q3 = Period.parse("2026-Q3")
    assert kpis.revenue_by_customer(revenue, q3) == {"a": Decimal("350.50"), "b": Decimal("49.50")}
    assert kpis.revenue_by_customer(revenue, q3, "CHF") == {"b": Decimal("1000")}
    # (100 + 250.50 + 49.50) / 3 = 133.333.. -> 133.33
    assert kpis.average_order_value(revenue, q3) == Decimal("133.33")
    assert kpis.average_order_value(revenue, Period.parse("2025")) is None


def test_lifetime_value(revenue: list[Revenue]) -> None:
    today = dt.date(2026, 10, 5)
    spells = [
        Spell("a", dt.date(2025, 1, 1)),
        Spell("b", dt.date(2025, 10, 6), dt.date(2026, 10, 5)),  # 365 days
        Spell("c", dt.date(2024, 10, 6), dt.date(2025, 10, 5)),  # 365 days, ended 1 y ago
    ]
    clv = kpis.lifetime_value(revenue, spells, today)
    # year 2025-10-06..2026-10-05: a 100 + 250.50 - 50, b 49.50, c 600 = 950.00
    # active in that year: a, b (c ended the day before) -> 475.00 per customer
    assert clv.yearly_revenue == Decimal("475.00")
    # ended spells: b and c, 365 days each -> 365 / 365.25 = 0.9993 -> 1.0 year
    assert clv.lifetime_years == 1.0
    assert clv.value == Decimal("475.00")
    # while no spell has ended: the mean of all lengths up to today
    open_only = [Spell("a", dt.date(2025, 10, 6))]  # 365 days
    assert kpis.lifetime_value([], open_only, today).lifetime_years == 1.0
    assert kpis.lifetime_value([], open_only, today).yearly_revenue == Decimal("0.00")
    assert kpis.lifetime_value([], [], today).value is None


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("amount", {"amount": "zwölf"}),
        ("amount", {"amount": "NaN"}),
        ("amount", {"amount": "1e12"}),
        ("amount", {"amount": "0.00001"}),
        ("currency", {"currency": "Euro"}),
        ("on", {"on": "gestern"}),
    ],
)
def test_revenue_rejects_bad_values(field: str, kw: dict[str, object]) -> None:
    values: dict[str, object] = {"contact_id": "x", "amount": "1", "on": dt.date(2026, 1, 1)}
    values.update(kw)
    with pytest.raises(crmkit.ValidationError) as info:
        Revenue(**values)  # type: ignore[arg-type]
    assert info.value.findings[0].field == field


# -- data quality over time -------------------------------------------------------------------
def test_quality_snapshot() -> None:
    a = _person("A", legal_basis="contract")
    b = _person("B", legal_basis="consent")
    c = _person("C")
    gone = _person("D", legal_basis="contract", archived_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
    findings = [
        crmkit.Finding(field="emails", code="email.invalid", contact_id=a.id),
        crmkit.Finding(field="name", code="x", contact_id=a.id),
        crmkit.Finding(field="phones", code="y", contact_id=b.id, severity="warning"),
    ]
    kinds = ["lead.qualify", "data.gap", "lead.qualify"]
    snap = kpis.quality_snapshot([a, b, c, gone], findings, kinds, dt.date(2026, 7, 1))
    # 3 active contacts, A has errors: 2/3 clean; A and B of 3 have a legal basis
    assert snap == kpis.QualitySnapshot(
        day=dt.date(2026, 7, 1),
        contacts=3,
        quality_score=0.6667,
        legal_basis_share=0.6667,
        open_items={"data.gap": 1, "lead.qualify": 2},
    )
    assert kpis.QualitySnapshot.from_dict(snap.to_dict()) == snap
    empty = kpis.quality_snapshot([], [], [], dt.date(2026, 7, 1))
    assert (empty.quality_score, empty.legal_basis_share) == (1.0, None)


def test_quality_trend() -> None:
    def snap(day: dt.date, score: float, items: int) -> kpis.QualitySnapshot:
        items_ = {"lead.qualify": items}
        return kpis.QualitySnapshot(
            day=day, contacts=10, quality_score=score, legal_basis_share=0.5, open_items=items_
        )

    snaps = [
        snap(dt.date(2026, 10, 1), 0.9, 1),  # Q4: outside
        snap(dt.date(2026, 8, 1), 0.6, 8),
        snap(dt.date(2026, 7, 1), 0.5, 10),
    ]
    assert kpis.quality_trend(snaps, Period.parse("2026-Q3")) == {
        "snapshots": 2,
        "day": "2026-08-01",
        "quality_score": 0.6,
        "quality_score_change": 0.1,  # 0.6 - 0.5
        "legal_basis_share": 0.5,
        "open_items": {"lead.qualify": 8},
        "open_items_change": -2,  # 8 - 10
    }
    assert kpis.quality_trend(snaps, Period.parse("2026-Q2")) == {}


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("-12", "-12"),
        (" 99,90 € ", "99.90"),
        ("1\u00a0000,00", "1000.00"),
    ],
)
def test_parse_amount(text: str, amount: str) -> None:
    assert kpis_api.parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "day"), [("23.11.2026", dt.date(2026, 11, 23)), ("2026-11-23", dt.date(2026, 11, 23))]
)
def test_parse_day(text: str, day: dt.date) -> None:
    assert kpis_api.parse_day(text) == day


@given(st.text(max_size=20))
def test_parsers_return_a_value_or_name_the_field(text: str) -> None:
    for parse, field in ((kpis_api.parse_amount, "amount"), (kpis_api.parse_day, "on")):
        try:
            parse(text)
        except crmkit.ValidationError as exc:
            assert exc.findings[0].field == field
            assert exc.message("de") and exc.message("en")


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.integers())
def test_revenue_amounts_are_bounded(value: Decimal | int) -> None:
    try:
        item = Revenue(contact_id="x", amount=value, on=dt.date(2026, 1, 1))
    except crmkit.ValidationError as exc:
        assert exc.findings[0].field == "amount"
        assert exc.findings[0].code == "amount.range"
    else:
        assert abs(item.amount) < kpis.AMOUNT_LIMIT
        # totals of a million such records stay exact to the cent
        assert kpis.average_order_value([item] * 3, Period.parse("2026")) is not None


@pytest.mark.parametrize("module", [kpis, kpis_api], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
