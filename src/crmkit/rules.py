"""Quality and role rules: pure functions that turn entities into findings.

Each rule has a stable code (``company.no_decision_maker``), a default
severity and a suggested action; a :class:`RulePolicy` (plain data) may
change the severity of any rule, switch rules off and set the thresholds
the worklist uses.  Plugins add rules through the ``crmkit_validate_contact``
hook; the facade runs everything in ``crm.check()``.

>>> from crmkit import Company
>>> [f.code for f in check_contact(Company(name="Muster GmbH"), RuleContext())]
['contact.no_relationship', 'contact.no_email', 'company.no_contact_person', \
'company.no_decision_maker', 'company.no_billing_contact', 'company.no_technical_contact', \
'company.contact_data_incomplete']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from crmkit import normalize
from crmkit.errors import SEVERITIES, Finding, Severity, ValidationError
from crmkit.model import Affiliation, Company, Contact, Person, _convert
from crmkit.model.values import relationship_set


@attrs.frozen
class Rule:
    """A rule's code, default severity and suggested action (a message code)."""

    code: str
    severity: Severity
    action: str


#: Every built-in rule.  Codes are stable; messages live in :mod:`crmkit.messages`.
RULES: Final[Mapping[str, Rule]] = {
    r.code: r
    for r in (
        Rule("contact.name_implausible", "warning", "action.fix_name"),
        Rule("person.looks_like_company", "warning", "action.make_company"),
        Rule("company.looks_like_person", "warning", "action.make_person"),
        Rule("contact.no_relationship", "warning", "action.set_relationship"),
        Rule("contact.no_email", "warning", "action.add_email"),
        Rule("contact.email_undeliverable", "warning", "action.replace_email"),
        Rule("person.company_domain_unlinked", "warning", "action.link_company"),
        Rule("person.not_linked", "info", "action.link_company"),
        Rule("affiliation.no_role", "info", "action.set_role"),
        Rule("company.no_contact_person", "warning", "action.add_person"),
        Rule("company.no_decision_maker", "error", "action.add_decision_maker"),
        Rule("company.no_billing_contact", "info", "action.add_billing"),
        Rule("customer.no_billing_contact", "error", "action.add_billing"),
        Rule("company.no_technical_contact", "info", "action.add_technical"),
        Rule("company.contact_data_incomplete", "warning", "action.complete_contact_data"),
        Rule("contact.no_legal_basis", "warning", "action.clarify_basis"),
        Rule("contact.field_not_needed", "warning", "action.remove_field"),
    )
}

#: Free-mail domains: an address there says nothing about an employer.
FREE_MAIL_DOMAINS: Final[frozenset[str]] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "web.de",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "t-online.de",
        "freenet.de",
        "yahoo.com",
        "yahoo.de",
        "outlook.com",
        "outlook.de",
        "hotmail.com",
        "hotmail.de",
        "live.de",
        "icloud.com",
        "me.com",
        "aol.com",
        "posteo.de",
        "mailbox.org",
        "arcor.de",
        "online.de",
        "protonmail.com",
        "proton.me",
    }
)

_PLACEHOLDER_NAMES: Final = frozenset(
    {"test", "tester", "xxx", "xx", "x", "asdf", "unbekannt", "unknown", "na", "nn", "dummy",
     "keine", "none", "null", "tbd", "todo", "abc", "aaa", "qwertz", "qwerty"}
)  # fmt: skip
_SALUTATION_START: Final = re.compile(r"^(herr|frau|hr\.?|fr\.?|mr\.?|mrs\.?|ms\.?)\s", re.I)


def _positive_int(field: str, value: object) -> int:
    number = _convert.non_negative_int(field, value)
    if number < 1:
        raise ValidationError.single(field, "value.invalid", value=value, reason="below 1")
    return number


def _severities(value: object) -> Mapping[str, Severity]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("severities", "mapping of rule code to severity", value)
    out: dict[str, Severity] = {}
    for code, severity in value.items():
        if severity not in SEVERITIES:
            raise ValidationError.single(
                f"severities.{code}", "value.choice", value=severity, choices=", ".join(SEVERITIES)
            )
        out[str(code)] = severity
    return out


def _codes(value: object) -> frozenset[str]:
    return _convert.tags("disabled", value)


def _domains(value: object) -> frozenset[str]:
    return frozenset(d.lower() for d in _convert.tags("free_mail_domains", value))


def _relationship_names(value: object) -> frozenset[str]:
    # Through the model's converter: aliases ("Kunde") work and a typo is refused.
    return frozenset(r.value for r in relationship_set("billing_required_for", value))


def _not_collected(value: object) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("not_collected", "mapping of legal basis to fields", value)
    return {str(k): _convert.tags(f"not_collected.{k}", v) for k, v in value.items()}


def _qualify_days(value: object) -> int:
    return _positive_int("lead_qualify_days", value)


def _open_days(value: object) -> int:
    return _positive_int("lead_open_days", value)


def _untouched_days(value: object) -> int:
    return _positive_int("lead_untouched_days", value)


def _silence_days(value: object) -> int:
    return _positive_int("customer_silence_days", value)


def _horizon_days(value: object) -> int:
    return _convert.non_negative_int("follow_up_horizon_days", value)


def _sample_size(value: object) -> int:
    return _convert.non_negative_int("quality_sample_size", value)


@attrs.frozen(kw_only=True)
class RulePolicy:
    """Rule settings as data: severities, switched-off rules and worklist thresholds.

    ``severities`` maps a rule code to ``error``/``warning``/``info``;
    ``disabled`` lists codes that never fire.  The thresholds are days:
    a new lead should be qualified within ``lead_qualify_days``; an open lead
    older than ``lead_open_days`` needs a decision; one untouched (no
    correspondence, no change) for ``lead_untouched_days`` is stale; a
    customer without contact for ``customer_silence_days`` should be called;
    follow-ups due within ``follow_up_horizon_days`` show on the worklist;
    ``quality_sample_size`` contacts are drawn for the monthly check.
    """

    severities: Mapping[str, Severity] = attrs.field(factory=dict, converter=_severities)
    disabled: frozenset[str] = attrs.field(factory=frozenset, converter=_codes)
    free_mail_domains: frozenset[str] = attrs.field(default=FREE_MAIL_DOMAINS, converter=_domains)
    billing_required_for: frozenset[str] = attrs.field(
        default=frozenset({"customer"}), converter=_relationship_names
    )
    lead_qualify_days: int = attrs.field(default=14, converter=_qualify_days)
    lead_open_days: int = attrs.field(default=90, converter=_open_days)
    lead_untouched_days: int = attrs.field(default=365, converter=_untouched_days)
    customer_silence_days: int = attrs.field(default=365, converter=_silence_days)
    follow_up_horizon_days: int = attrs.field(default=7, converter=_horizon_days)
    quality_sample_size: int = attrs.field(default=20, converter=_sample_size)
    #: Data minimisation: legal basis → contact fields not to be collected for it.
    not_collected: Mapping[str, frozenset[str]] = attrs.field(
        factory=dict, converter=_not_collected
    )

    def severity(self, code: str, default: Severity | None = None) -> Severity:
        """The severity of rule *code* under this policy."""
        if code in self.severities:
            return self.severities[code]
        if default is not None:
            return default
        rule = RULES.get(code)
        return rule.severity if rule else "warning"

    def enabled(self, code: str) -> bool:
        """False when *code* is switched off."""
        return code not in self.disabled

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RulePolicy:
        """A policy from plain data (TOML/JSON); unknown keys are refused, naming them."""
        if not isinstance(data, Mapping):
            raise _convert.type_error("rules", "mapping", data)
        known = {a.name for a in attrs.fields(cls)}
        extra = sorted(str(k) for k in data if k not in known)
        if extra:
            raise ValidationError.single(
                extra[0], "value.choice", value=extra[0], choices=", ".join(sorted(known))
            )
        return cls(**dict(data))


@attrs.frozen(kw_only=True)
class RuleContext:
    """What the rules know beyond the contact itself.

    ``affiliations`` are the contact's own (a person's companies or a
    company's people); ``company_domains`` maps e-mail domains to the ids of
    the companies using them; ``today`` decides which affiliations are active.
    """

    affiliations: tuple[Affiliation, ...] = ()
    company_domains: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    today: dt.date | None = None


class _Emitter:
    def __init__(self, contact: Contact, policy: RulePolicy) -> None:
        self.contact = contact
        self.policy = policy
        self.out: list[Finding] = []

    def __call__(
        self, code: str, field: str = "", *, severity: Severity | None = None, **params: Any
    ) -> None:
        if not self.policy.enabled(code):
            return
        rule = RULES[code]
        self.out.append(
            Finding(
                field=field,
                code=code,
                params={"name": display(self.contact), **params},
                severity=self.policy.severity(code, severity),
                contact_id=self.contact.id,
                action=rule.action,
            )
        )


def display(contact: Contact) -> str:
    """The name shown in findings: "Dr. Max Mustermann", "Muster GmbH"."""
    return contact.display_name


def _implausible(text: str) -> bool:
    folded = normalize.fold(text)
    if not any(ch.isalpha() for ch in folded):
        return True
    compact = folded.replace(" ", "")
    if compact in _PLACEHOLDER_NAMES or len(compact) < 2 or len(set(compact)) == 1:
        return True
    return all(word in _PLACEHOLDER_NAMES for word in folded.split())


def check_contact(
    contact: Contact, context: RuleContext, policy: RulePolicy | None = None
) -> list[Finding]:
    """Every quality finding about *contact* (and, for a company, its role rules).

    The contact's own value warnings (``phone.unassigned`` …) come from
    :meth:`crmkit.Contact.findings` and are included.
    """
    policy = policy or RulePolicy()
    emit = _Emitter(contact, policy)
    active = [
        a for a in context.affiliations if context.today is None or a.is_active(context.today)
    ]
    if isinstance(contact, Person):
        full = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        if _implausible(full):
            emit("contact.name_implausible", "last_name")
        elif normalize.company_name(full)[1] is not None:
            emit("person.looks_like_company", "last_name")
    elif isinstance(contact, Company):
        if _implausible(contact.base_name or contact.name):
            emit("contact.name_implausible", "name")
        elif _SALUTATION_START.match(contact.name) and contact.legal_form is None:
            emit("company.looks_like_person", "name")
    if not contact.relationships:
        emit("contact.no_relationship", "relationships")
    if not contact.emails:
        emit("contact.no_email", "emails")
    if contact.legal_basis is None:
        emit("contact.no_legal_basis", "legal_basis")
    else:
        for name in sorted(policy.not_collected.get(contact.legal_basis.basis, ())):
            if getattr(contact, name, None) not in (None, "", (), frozenset()):
                emit("contact.field_not_needed", name, basis=contact.legal_basis.basis)
    for i, email in enumerate(contact.emails):
        if email.undeliverable:
            emit("contact.email_undeliverable", f"emails.{i}", address=email.address)
    if isinstance(contact, Person):
        _person_rules(contact, context, active, emit)
    elif isinstance(contact, Company):
        _company_rules(contact, active, emit)
    own = [attrs.evolve(f, contact_id=contact.id) for f in contact.findings()]
    return own + emit.out


def _person_rules(
    person: Person, context: RuleContext, active: list[Affiliation], emit: _Emitter
) -> None:
    linked = {a.company_id for a in active}
    if not active:
        emit("person.not_linked", "affiliations")
    for i, email in enumerate(person.emails):
        domain = email.domain.lower()
        if domain in emit.policy.free_mail_domains:
            continue
        companies = context.company_domains.get(domain, frozenset())
        if companies and not (companies & linked):
            emit("person.company_domain_unlinked", f"emails.{i}", domain=domain)
    for a in active:
        if not a.roles and not a.position:
            emit("affiliation.no_role", "affiliations", affiliation_id=a.id)


def _company_rules(company: Company, active: list[Affiliation], emit: _Emitter) -> None:
    roles = {role for a in active for role in a.roles}
    if not active:
        emit("company.no_contact_person", "affiliations")
    if "decision_maker" not in roles:
        emit("company.no_decision_maker", "affiliations")
    if "billing" not in roles:
        required = {r.value for r in company.relationships} & emit.policy.billing_required_for
        emit("customer.no_billing_contact" if required else "company.no_billing_contact",
             "affiliations")  # fmt: skip
    if "technical" not in roles:
        emit("company.no_technical_contact", "affiliations")
    missing = [
        label
        for label, present in (
            ("e-mail", bool(company.emails)),
            ("phone", bool(company.phones)),
            ("address", any(not a.is_empty for a in company.addresses)),
        )
        if not present
    ]
    if missing:
        emit("company.contact_data_incomplete", "", missing=tuple(missing))


def company_domains(
    companies: Iterable[Company], policy: RulePolicy | None = None
) -> dict[str, frozenset[str]]:
    """E-mail domain → ids of the companies using it (free-mail domains left out)."""
    policy = policy or RulePolicy()
    out: dict[str, set[str]] = {}
    for company in companies:
        for email in company.emails:
            domain = email.domain.lower()
            if domain not in policy.free_mail_domains:
                out.setdefault(domain, set()).add(company.id)
    return {k: frozenset(v) for k, v in out.items()}


def quality_score(findings: Iterable[Finding], total: int) -> float:
    """The share of contacts (out of *total*) without an error finding; 1.0 for none."""
    if total <= 0:
        return 1.0
    broken = {f.contact_id for f in findings if f.severity == "error" and f.contact_id}
    return (total - min(len(broken), total)) / total


__all__ = [
    "FREE_MAIL_DOMAINS",
    "RULES",
    "Rule",
    "RuleContext",
    "RulePolicy",
    "check_contact",
    "company_domains",
    "display",
    "quality_score",
]
