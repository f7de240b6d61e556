"""The quality and role rules (``crmkit.rules``): pure table tests on German data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from crmkit import (
    Affiliation,
    Company,
    Contact,
    EmailAddress,
    Finding,
    Person,
    ValidationError,
    messages,
)
from crmkit.errors import SEVERITIES
from crmkit.messages import LANGS
from crmkit.rules import (
    FREE_MAIL_DOMAINS,
    RULES,
    RuleContext,
    RulePolicy,
    check_contact,
    company_domains,
    quality_score,
)

TODAY = dt.date(2026, 11, 23)
BOUNCED = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
PLACEHOLDER = re.compile(r"{\w*[!:}]")
TEMPLATE_FIELD = re.compile(r"{(\w+)")

MUSTER = Company(
    name="Muster GmbH",
    relationships={"customer"},
    emails=["info@muster.de"],
    phones=["+49 221 1234560"],
    addresses=[{"street": "Hauptstr. 1", "postal_code": "50667", "city": "Köln"}],
    legal_basis="contract",
)
MAX = Person(
    first_name="Max",
    last_name="Mustermann",
    relationships={"customer"},
    emails=["max.mustermann@muster.de"],
    legal_basis={"basis": "contract", "purpose": "Rahmenvertrag 2026"},
)


def codes(contact: Contact, context: RuleContext | None = None, **policy: Any) -> set[str]:
    found = check_contact(contact, context or RuleContext(today=TODAY), RulePolicy(**policy))
    return {f.code for f in found}


def aff(person: Contact = MAX, company: Contact = MUSTER, **kw: Any) -> Affiliation:
    return Affiliation(person_id=person.id, company_id=company.id, **kw)


def ctx(*affiliations: Affiliation, today: dt.date | None = TODAY, **domains: str) -> RuleContext:
    return RuleContext(
        affiliations=affiliations,
        company_domains={d.replace("_", "."): frozenset({c}) for d, c in domains.items()},
        today=today,
    )


LINKED_MAX = ctx(aff(roles={"decision_maker"}))
FULL_COMPANY = ctx(aff(roles={"decision_maker", "billing", "technical"}))

# (id, contact, context, code, fires)
Case = tuple[str, Contact, RuleContext, str, bool]
CASES: list[Case] = [
    # names
    ("placeholder xxx", Person(last_name="xxx"), LINKED_MAX, "contact.name_implausible", True),
    ("placeholder Test", Person(first_name="Test"), LINKED_MAX, "contact.name_implausible", True),
    ("digits only", Person(last_name="123"), LINKED_MAX, "contact.name_implausible", True),
    ("one letter", Person(last_name="X"), LINKED_MAX, "contact.name_implausible", True),
    ("same letter", Person(last_name="aaaa"), LINKED_MAX, "contact.name_implausible", True),
    ("company Test GmbH", Company(name="Test GmbH"), FULL_COMPANY,
     "contact.name_implausible", True),
    ("company 123", Company(name="123"), FULL_COMPANY, "contact.name_implausible", True),
    ("real person", MAX, LINKED_MAX, "contact.name_implausible", False),
    ("umlauts", Person(first_name="Jürgen", last_name="Öztürk"), LINKED_MAX,
     "contact.name_implausible", False),
    ("short real name", Person(last_name="Ng"), LINKED_MAX, "contact.name_implausible", False),
    ("real company", MUSTER, FULL_COMPANY, "contact.name_implausible", False),
    # kind
    ("Muster GmbH as person", Person(last_name="Muster GmbH"), LINKED_MAX,
     "person.looks_like_company", True),
    ("e.K. as person", Person(first_name="Max", last_name="Mustermann e.K."), LINKED_MAX,
     "person.looks_like_company", True),
    ("person named like a person", MAX, LINKED_MAX, "person.looks_like_company", False),
    ("Herr as company", Company(name="Herr Max Mustermann"), FULL_COMPANY,
     "company.looks_like_person", True),
    ("Frau Dr. as company", Company(name="Frau Dr. Erika Muster"), FULL_COMPANY,
     "company.looks_like_person", True),
    ("Herr with legal form", Company(name="Herr Max Mustermann e.K."), FULL_COMPANY,
     "company.looks_like_person", False),
    ("Herrenmode is a firm", Company(name="Herrenmode Schulz"), FULL_COMPANY,
     "company.looks_like_person", False),
    ("company named like a company", MUSTER, FULL_COMPANY, "company.looks_like_person", False),
    ("placeholder is not also a person", Company(name="xxx"), FULL_COMPANY,
     "company.looks_like_person", False),
    # relationship and e-mail
    ("no relationship", Person(first_name="Max", last_name="Mustermann"), LINKED_MAX,
     "contact.no_relationship", True),
    ("relationship set", MAX, LINKED_MAX, "contact.no_relationship", False),
    ("no e-mail", Person(last_name="Mustermann"), LINKED_MAX, "contact.no_email", True),
    ("company without e-mail", Company(name="Muster AG"), FULL_COMPANY, "contact.no_email", True),
    ("e-mail present", MAX, LINKED_MAX, "contact.no_email", False),
    ("bounced", Person(last_name="Mustermann", emails=[
        EmailAddress(address="max@muster.de", bounced_at=BOUNCED)]), LINKED_MAX,
     "contact.email_undeliverable", True),
    ("not bounced", MAX, LINKED_MAX, "contact.email_undeliverable", False),
    # company domain
    ("company domain, unlinked", MAX, ctx(muster_de=MUSTER.id),
     "person.company_domain_unlinked", True),
    ("company domain, upper case", Person(last_name="Mustermann", emails=["MAX@MUSTER.DE"]),
     ctx(muster_de=MUSTER.id), "person.company_domain_unlinked", True),
    ("company domain, linked", MAX, ctx(aff(roles={"sales"}), muster_de=MUSTER.id),
     "person.company_domain_unlinked", False),
    ("company domain, link expired", MAX,
     ctx(aff(roles={"sales"}, until="2025-12-31"), muster_de=MUSTER.id),
     "person.company_domain_unlinked", True),
    ("company domain, link not started", MAX,
     ctx(aff(roles={"sales"}, since="2027-01-01"), muster_de=MUSTER.id),
     "person.company_domain_unlinked", True),
    ("company domain, linked to another firm", MAX,
     ctx(aff(company=Company(name="Beispiel AG"), roles={"sales"}), muster_de=MUSTER.id),
     "person.company_domain_unlinked", True),
    ("free mail", Person(last_name="Mustermann", emails=["max@gmx.de"]),
     ctx(gmx_de=MUSTER.id), "person.company_domain_unlinked", False),
    ("unknown domain", Person(last_name="Mustermann", emails=["max@beispiel.de"]),
     ctx(muster_de=MUSTER.id), "person.company_domain_unlinked", False),
    # links and roles
    ("person not linked", MAX, ctx(), "person.not_linked", True),
    ("person linked", MAX, LINKED_MAX, "person.not_linked", False),
    ("person link expired", MAX, ctx(aff(until="2026-06-30")), "person.not_linked", True),
    ("expired link without today counts", MAX, ctx(aff(until="2026-06-30"), today=None),
     "person.not_linked", False),
    ("affiliation without role", MAX, ctx(aff()), "affiliation.no_role", True),
    ("affiliation with position", MAX, ctx(aff(position="Einkauf")), "affiliation.no_role", False),
    ("affiliation with role", MAX, ctx(aff(roles={"billing"})), "affiliation.no_role", False),
    ("expired affiliation without role", MAX, ctx(aff(until="2026-06-30")),
     "affiliation.no_role", False),
    ("a company has no person rules", MUSTER, ctx(), "person.not_linked", False),
    # role rules
    ("no contact person", MUSTER, ctx(), "company.no_contact_person", True),
    ("contact person", MUSTER, ctx(aff()), "company.no_contact_person", False),
    ("only an expired contact person", MUSTER, ctx(aff(until="2026-06-30")),
     "company.no_contact_person", True),
    ("no decision maker", MUSTER, ctx(aff(roles={"billing"})), "company.no_decision_maker", True),
    ("decision maker", MUSTER, ctx(aff(roles={"decision_maker"})),
     "company.no_decision_maker", False),
    ("decision maker left", MUSTER, ctx(aff(roles={"decision_maker"}, until="2026-10-31")),
     "company.no_decision_maker", True),
    ("role spelled with a blank", MUSTER, ctx(aff(roles={"Decision Maker"})),
     "company.no_decision_maker", False),
    ("customer without billing", MUSTER, ctx(aff(roles={"decision_maker"})),
     "customer.no_billing_contact", True),
    ("customer without billing is not the recommendation", MUSTER,
     ctx(aff(roles={"decision_maker"})), "company.no_billing_contact", False),
    ("supplier without billing", Company(name="Lieferant GmbH", relationships={"supplier"}),
     ctx(aff(roles={"decision_maker"})), "company.no_billing_contact", True),
    ("supplier without billing is not required", Company(name="Lieferant GmbH",
     relationships={"supplier"}), ctx(aff()), "customer.no_billing_contact", False),
    ("customer with billing", MUSTER, ctx(aff(roles={"billing"})),
     "customer.no_billing_contact", False),
    ("company with billing", Company(name="Lieferant GmbH"), ctx(aff(roles={"billing"})),
     "company.no_billing_contact", False),
    ("no technical contact", MUSTER, ctx(aff(roles={"billing"})),
     "company.no_technical_contact", True),
    ("technical contact", MUSTER, ctx(aff(roles={"technical"})),
     "company.no_technical_contact", False),
    ("contact data incomplete", Company(name="Muster AG", emails=["info@muster-ag.de"]),
     FULL_COMPANY, "company.contact_data_incomplete", True),
    ("contact data complete", MUSTER, FULL_COMPANY, "company.contact_data_incomplete", False),
    ("persons have no company rules", MAX, ctx(), "company.no_decision_maker", False),
    # legal basis (Art. 6(1) GDPR)
    ("no legal basis", Person(last_name="Ohnegrund"), LINKED_MAX, "contact.no_legal_basis", True),
    ("legal basis documented", MAX, LINKED_MAX, "contact.no_legal_basis", False),
]  # fmt: skip

#: Rules that need a policy setting to fire; tested on their own below.
POLICY_ONLY = {"contact.field_not_needed"}


@pytest.mark.parametrize(("contact", "context", "code", "fires"),
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])  # fmt: skip
def test_rule_fires_where_it_should(
    contact: Contact, context: RuleContext, code: str, fires: bool
) -> None:
    assert code in RULES
    assert (code in codes(contact, context)) is fires


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    assert {c[3] for c in CASES if c[4]} == set(RULES) - POLICY_ONLY
    assert {c[3] for c in CASES if not c[4]} == set(RULES) - POLICY_ONLY


def test_data_minimisation_reports_fields_not_to_collect() -> None:
    lead = Person(last_name="Neu", notes="Hobby: Segeln", legal_basis="legitimate_interest")
    policy = {"not_collected": {"legitimate_interest": ["notes"]}}
    assert "contact.field_not_needed" in codes(lead, LINKED_MAX, **policy)
    assert "contact.field_not_needed" not in codes(lead, LINKED_MAX)
    quiet = Person(last_name="Neu", legal_basis="legitimate_interest")
    assert "contact.field_not_needed" not in codes(quiet, LINKED_MAX, **policy)
    [finding] = [f for f in check_contact(lead, LINKED_MAX, RulePolicy(**policy))
                 if f.code == "contact.field_not_needed"]  # fmt: skip
    assert finding.field == "notes" and "Datenminimierung" in finding.message("de")


def test_a_clean_company_and_person_have_no_findings() -> None:
    assert codes(MUSTER, FULL_COMPANY) == set()
    assert codes(MAX, ctx(aff(roles={"decision_maker"}), muster_de=MUSTER.id)) == set()


def test_missing_contact_data_names_what_is_missing() -> None:
    company = Company(name="Muster AG", phones=["+49 221 1234560"])
    [finding] = [f for f in check_contact(company, FULL_COMPANY)
                 if f.code == "company.contact_data_incomplete"]  # fmt: skip
    assert finding.params["missing"] == ("e-mail", "address")
    assert finding.message() == "Muster AG lacks general contact data: e-mail, address"
    assert (
        finding.message("de") == "bei Muster AG fehlen allgemeine Kontaktdaten: E-Mail, Anschrift"
    )
    assert finding.suggestion("de") == "ergänzen: E-Mail, Anschrift"


def test_no_email_says_why_it_matters() -> None:
    [finding] = [f for f in check_contact(Person(last_name="Mustermann"), LINKED_MAX)
                 if f.code == "contact.no_email"]  # fmt: skip
    assert "Microsoft 365" in finding.message("en")
    assert "Microsoft 365" in finding.message("de")
    assert (finding.field, finding.severity, finding.action) == (
        "emails",
        "warning",
        "action.add_email",
    )


def test_bounced_address_is_named_with_its_field() -> None:
    person = Person(last_name="Mustermann", emails=["max@gmx.de", EmailAddress(
        address="max@muster.de", bounced_at=BOUNCED)])  # fmt: skip
    [finding] = [f for f in check_contact(person, LINKED_MAX)
                 if f.code == "contact.email_undeliverable"]  # fmt: skip
    assert (finding.field, finding.params["address"]) == ("emails.1", "max@muster.de")


def test_affiliation_without_role_names_the_affiliation() -> None:
    link = aff()
    [finding] = [f for f in check_contact(MAX, ctx(link)) if f.code == "affiliation.no_role"]
    assert finding.params["affiliation_id"] == link.id


def test_default_severities() -> None:
    found = {f.code: f.severity for f in check_contact(Company(name="Muster AG"), ctx())}
    assert found["company.no_decision_maker"] == "error"
    assert found["company.no_billing_contact"] == "info"
    assert found["company.no_technical_contact"] == "info"
    assert found["company.no_contact_person"] == "warning"
    customer = {f.code: f.severity for f in check_contact(MUSTER, ctx())}
    assert customer["customer.no_billing_contact"] == "error"


# -- policy --------------------------------------------------------------------------------------
def test_severity_override() -> None:
    policy = RulePolicy(
        severities={"company.no_decision_maker": "warning", "contact.no_email": "error"}
    )
    found = {f.code: f.severity for f in check_contact(Company(name="Muster AG"), ctx(), policy)}
    assert found["company.no_decision_maker"] == "warning"
    assert found["contact.no_email"] == "error"
    assert found["company.no_technical_contact"] == "info"


def test_disabled_rules_never_fire() -> None:
    disabled = {"company.no_technical_contact", "contact.no_email", "person.not_linked"}
    assert not codes(Company(name="Muster AG"), ctx(), disabled=disabled) & disabled
    assert not codes(Person(last_name="Mustermann"), ctx(), disabled=disabled) & disabled
    assert "company.no_decision_maker" in codes(Company(name="Muster AG"), ctx(), disabled=disabled)


def test_billing_required_for_other_relationships() -> None:
    supplier = Company(name="Lieferant GmbH", relationships={"supplier"})
    found = codes(supplier, ctx(), billing_required_for={"supplier"})
    assert "customer.no_billing_contact" in found
    assert "company.no_billing_contact" not in found
    found = codes(MUSTER, ctx(), billing_required_for=set())
    assert "company.no_billing_contact" in found
    assert "customer.no_billing_contact" not in found


def test_free_mail_domains_from_the_policy() -> None:
    context = ctx(muster_de=MUSTER.id)
    assert "person.company_domain_unlinked" in codes(MAX, context)
    assert "person.company_domain_unlinked" not in codes(
        MAX, context, free_mail_domains={"muster.de"}
    )
    policy = RulePolicy(free_mail_domains={"Muster.DE"})
    assert company_domains([MUSTER], policy) == {}


def test_company_domains_leave_free_mail_out() -> None:
    other = Company(name="Muster Vertrieb GmbH", emails=["vertrieb@muster.de", "muster@gmail.com"])
    assert company_domains([MUSTER, other, Company(name="Ohne Mail AG")]) == {
        "muster.de": frozenset({MUSTER.id, other.id})
    }
    assert "gmail.com" in FREE_MAIL_DOMAINS and "web.de" in FREE_MAIL_DOMAINS


def test_policy_defaults() -> None:
    policy = RulePolicy()
    assert (policy.lead_qualify_days, policy.lead_open_days, policy.lead_untouched_days) == (
        14, 90, 365)  # fmt: skip
    assert (policy.customer_silence_days, policy.follow_up_horizon_days) == (365, 7)
    assert policy.quality_sample_size == 20
    assert policy.billing_required_for == {"customer"}
    assert policy.severity("company.no_decision_maker") == "error"
    assert policy.severity("lead.stale", "warning") == "warning"
    assert RulePolicy(severities={"lead.stale": "error"}).severity("lead.stale", "warning") == (
        "error")  # fmt: skip
    assert policy.enabled("contact.no_email")


def test_policy_from_dict() -> None:
    policy = RulePolicy.from_dict(
        {
            "severities": {"contact.no_email": "error"},
            "disabled": ["company.no_technical_contact"],
            "billing_required_for": ["Kunde", "supplier"],
            "lead_open_days": 60,
            "quality_sample_size": 0,
        }
    )
    assert policy.severity("contact.no_email") == "error"
    assert not policy.enabled("company.no_technical_contact")
    assert policy.billing_required_for == {"customer", "supplier"}
    assert (policy.lead_open_days, policy.quality_sample_size) == (60, 0)
    assert RulePolicy.from_dict({}) == RulePolicy()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lead_open_days": 0}, "lead_open_days"),
        ({"lead_open_days": "90"}, "lead_open_days"),
        ({"lead_qualify_days": True}, "lead_qualify_days"),
        ({"lead_untouched_days": -1}, "lead_untouched_days"),
        ({"customer_silence_days": 1.5}, "customer_silence_days"),
        ({"follow_up_horizon_days": -1}, "follow_up_horizon_days"),
        ({"quality_sample_size": -5}, "quality_sample_size"),
        ({"severities": {"contact.no_email": "fatal"}}, "severities.contact.no_email"),
        ({"severities": ["contact.no_email"]}, "severities"),
        ({"disabled": 5}, "disabled"),
        ({"free_mail_domains": [1]}, "free_mail_domains.0"),
        ({"billing_required_for": ["customers"]}, "billing_required_for"),
        ({"lead_open_dayz": 30}, "lead_open_dayz"),
        ({1: 30}, "1"),
    ],
)
def test_policy_from_dict_errors_name_the_field(data: dict[Any, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        RulePolicy.from_dict(data)
    assert [f.field for f in info.value.findings] == [field]


def test_policy_from_dict_refuses_a_non_mapping() -> None:
    with pytest.raises(ValidationError) as info:
        RulePolicy.from_dict(["lead_open_days"])  # type: ignore[arg-type]
    assert info.value.findings[0].field == "rules"


# -- messages ------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_messages_in_both_languages(code: str) -> None:
    rule = RULES[code]
    assert rule.code == code and rule.severity in SEVERITIES
    assert {code, rule.action} <= messages.codes()
    for lang in LANGS:
        assert messages.template(code, lang).strip()
        assert messages.template(rule.action, lang).strip()
    assert messages.template(code, "en") != messages.template(code, "de")


def _every_finding() -> list[Finding]:
    """Contacts that together fire every rule."""
    person = Person(last_name="Muster GmbH", emails=[EmailAddress(
        address="max@muster.de", bounced_at=BOUNCED)])  # fmt: skip
    out = check_contact(person, ctx(muster_de=MUSTER.id))
    out += check_contact(Person(last_name="xxx"), ctx(aff()))
    out += check_contact(Company(name="Herr Max Mustermann"), ctx())
    out += check_contact(MUSTER, ctx())
    out += check_contact(Company(name="Lieferant GmbH"), ctx())
    minimal = RulePolicy(not_collected={"legitimate_interest": ["notes"]})
    out += check_contact(Person(last_name="Neu", notes="x", legal_basis="legitimate_interest"),
                         ctx(aff()), minimal)  # fmt: skip
    return out


def test_every_rule_message_renders_without_placeholders() -> None:
    findings = _every_finding()
    assert {f.code for f in findings} == set(RULES)
    for finding in findings:
        for lang in LANGS:
            text, action = finding.message(lang), finding.suggestion(lang)
            assert text and action, (finding.code, lang)
            assert not PLACEHOLDER.search(text), (finding.code, lang, text)
            assert not PLACEHOLDER.search(action), (finding.code, lang, action)
            assert text != action
        assert finding.action == RULES[finding.code].action


# -- hypothesis ----------------------------------------------------------------------------------
NAME = st.text(max_size=30) | st.sampled_from(
    ["Muster GmbH", "Herr Max Mustermann", "xxx", "Test", "123", "Müller & Söhne GmbH & Co. KG",
     "Frau", "e.K.", "GmbH", "  ", "Ö", "Dr.", "Ltd"]
)  # fmt: skip
EMAIL = (
    st.sampled_from(
        ["max@muster.de", "MAX@MUSTER.DE", "info@gmx.de", "a@b.co", "erika.muster@beispiel.de"]
    )
    | st.emails()
)
RELATIONSHIPS = st.sets(st.sampled_from(["customer", "supplier", "lead", "partner", "member"]))


def _build(make: Callable[[], Contact]) -> Contact:
    try:
        return make()
    except ValidationError:
        assume(False)
        raise  # pragma: no cover - assume() raised


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    emails = draw(st.lists(EMAIL, max_size=3))
    bounced = draw(st.booleans())
    relationships = draw(RELATIONSHIPS)
    phones = draw(st.lists(st.sampled_from(["+49 221 1234560", "0170 1234567", "+49 30 0"]),
                           max_size=2))  # fmt: skip
    common: dict[str, Any] = {"relationships": relationships, "phones": phones}
    if draw(st.booleans()):
        first, last = draw(NAME), draw(NAME)
        contact: Contact = _build(lambda: Person(first_name=first, last_name=last, **common))
    else:
        name = draw(NAME)
        contact = _build(lambda: Company(name=name, **common))
    addresses = [EmailAddress(address=e, bounced_at=BOUNCED if bounced else None)
                 for e in emails if _valid_email(e)]  # fmt: skip
    return _build(lambda: _with_emails(contact, addresses))


def _valid_email(text: str) -> bool:
    try:
        EmailAddress(address=text)
    except ValidationError:
        return False
    return True


def _with_emails(contact: Contact, emails: list[EmailAddress]) -> Contact:
    import attrs

    return attrs.evolve(contact, emails=emails)


@st.composite
def contexts(draw: st.DrawFn, contact: Contact) -> RuleContext:
    other = Company(name="Beispiel AG") if isinstance(contact, Person) else MAX
    affiliations = []
    for _ in range(draw(st.integers(0, 3))):
        roles = draw(st.sets(st.sampled_from(["decision_maker", "billing", "technical", "x"])))
        until = draw(st.none() | st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
        person, company = (contact, other) if isinstance(contact, Person) else (other, contact)
        affiliations.append(aff(person, company, roles=roles, until=until))
    domains = draw(st.dictionaries(st.sampled_from(["muster.de", "gmx.de", "beispiel.de"]),
                                   st.just(frozenset({other.id})), max_size=3))  # fmt: skip
    today = draw(st.none() | st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
    return RuleContext(affiliations=tuple(affiliations), company_domains=domains, today=today)


@given(data=st.data())
@example(data=None)
def test_check_contact_never_crashes(data: st.DataObject | None) -> None:
    if data is None:  # the pinned German cases
        pairs: list[tuple[Contact, RuleContext]] = [
            (Person(last_name="Muster GmbH"), ctx()),
            (Company(name="Herr Max Mustermann"), ctx()),
            (Person(first_name="xxx", last_name="Test"), ctx(aff(until="2020-01-01"))),
        ]
    else:
        contact = data.draw(contacts())
        pairs = [(contact, data.draw(contexts(contact)))]
    for contact, context in pairs:
        policy = RulePolicy(severities={"contact.no_email": "error"})
        findings = check_contact(contact, context, policy)
        for finding in findings:
            assert finding.contact_id == contact.id
            assert finding.severity in SEVERITIES
            given_ = {*finding.params, "field"}
            for lang in LANGS:
                assert finding.message(lang) and finding.suggestion(lang) is not None
                for code in (finding.code, finding.action):
                    if code is not None:  # user text may hold braces: check the templates
                        needed = set(TEMPLATE_FIELD.findall(messages.template(code, lang)))
                        assert needed <= given_, (code, lang, finding)
        assert {f.code for f in findings} <= set(RULES) | {"phone.unassigned"}


# -- the score -----------------------------------------------------------------------------------
def _f(contact_id: str | None, severity: Any = "error") -> Finding:
    return Finding(field="", code="contact.no_email", severity=severity, contact_id=contact_id)


@pytest.mark.parametrize(
    ("findings", "total", "score"),
    [
        ([], 0, 1.0),
        ([], 4, 1.0),
        ([_f("a")], 4, 0.75),
        ([_f("a"), _f("a")], 4, 0.75),
        ([_f("a"), _f("b", "warning"), _f("c", "info")], 4, 0.75),
        ([_f(None)], 4, 1.0),
        ([_f("a"), _f("b"), _f("c"), _f("d")], 4, 0.0),
        ([_f("a"), _f("b")], 1, 0.0),
        ([_f("a")], -3, 1.0),
    ],
)
def test_quality_score_table(findings: list[Finding], total: int, score: float) -> None:
    assert quality_score(findings, total) == score


@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", None]), st.sampled_from(SEVERITIES))),
    st.integers(-2, 10),
)
def test_quality_score_is_a_share(pairs: list[tuple[str | None, Any]], total: int) -> None:
    score = quality_score((_f(c, s) for c, s in pairs), total)
    assert 0.0 <= score <= 1.0
    if not any(s == "error" and c for c, s in pairs):
        assert score == 1.0
