"""``crm.find_duplicates`` and ``crm.mark_distinct``: the duplicate engine on a store.

The engine (:mod:`crmkit.dedup`) is pure.  Here the facade feeds it: the
whole store for the monthly check, or — for "search before you create" —
only the candidates the store's indexes return for a new contact's
blocking keys (its e-mail addresses, phone numbers, names and domain), which
keeps the check to milliseconds on a large store.  Pairs a user decided
are "not a duplicate" are remembered by :func:`crmkit.dedup.decision_key`
and not proposed again until one of the two records changes in a matching
field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from crmkit import normalize
from crmkit import search as search_rules
from crmkit.dedup import (
    DedupConfig,
    DuplicatePair,
    DuplicateReport,
    blocking_keys,
    check_candidate,
    decision_key,
    find_duplicates,
)
from crmkit.errors import ValidationError
from crmkit.merge import DedupDecision
from crmkit.model import Company, Contact, Person

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: Candidates fetched per blocking key for a single-candidate check.
CANDIDATES_PER_KEY = 50


def employers(crm: CRM) -> dict[str, list[str]]:
    """Person id → ids of the companies the person works for (active or not)."""
    out: dict[str, list[str]] = {}
    for contact in crm.store.iter_contacts(scope=crm.scope()):
        if isinstance(contact, Company):
            for a in crm.store.affiliations_of_company(contact.id):
                out.setdefault(a.person_id, []).append(contact.id)
    return out


def _candidates(crm: CRM, contact: Contact) -> Iterator[Contact]:
    scope = crm.scope()
    # Two keys may ask the same (a person's name keys both look up the last
    # name): each search and phone look-up runs once.
    asked: set[object] = set()
    for key in blocking_keys(contact):
        lookup = key.lookup
        if not lookup:
            continue
        if key.kind == "phone":
            if ("phone", lookup) not in asked:
                asked.add(("phone", lookup))
                yield from crm.store.find_by_phone(lookup, scope=scope)
            continue
        if key.kind == "email":
            query = search_rules.Query(mode="email", value=lookup.lower(),
                                       limit=CANDIDATES_PER_KEY)  # fmt: skip
        elif key.kind == "domain":
            query = search_rules.Query(mode="domain", value=lookup.lower(),
                                       limit=CANDIDATES_PER_KEY)  # fmt: skip
        elif key.kind in ("name", "company_name"):
            words = tuple(dict.fromkeys(normalize.fold(lookup).split()))[: search_rules.MAX_WORDS]
            if key.kind == "name" and isinstance(contact, Person) and contact.first_name:
                # The name key is last name plus first initial: ask for both.
                initial = normalize.fold(contact.first_name)[:1]
                words = (*words, initial) if initial else words
            if not words:
                continue
            query = search_rules.Query(mode="text", words=words, kind=contact.kind,
                                       limit=CANDIDATES_PER_KEY)  # fmt: skip
        else:  # "postal code|street": no store index for addresses yet
            continue
        if query not in asked:
            asked.add(query)
            yield from crm.store.search(query, scope=scope)


def check(crm: CRM, contact: Contact, config: DedupConfig | None) -> tuple[DuplicatePair, ...]:
    """The likely duplicates of *contact* (new or stored) among the store's candidates."""
    if not isinstance(contact, (Person, Company)):
        raise ValidationError.single(
            "candidate", "value.type", expected="Person or Company", actual=type(contact).__name__
        )
    found: dict[str, Contact] = {c.id: c for c in _candidates(crm, contact) if c.id != contact.id}
    live = [c for c in found.values() if c.merged_into is None and c.archived_at is None]
    pairs = check_candidate(contact, live, config)
    decided = {d.key for d in crm.store.dedup_decisions()}
    if not decided:
        return pairs
    return tuple(p for p in pairs if decision_key(contact, found[p.right_id]) not in decided)


def report(crm: CRM, config: DedupConfig | None) -> DuplicateReport:
    """Every duplicate pair among the live contacts the actor may read."""
    contacts = list(crm.store.iter_contacts(include_archived=False, scope=crm.scope()))
    decided = frozenset(d.key for d in crm.store.dedup_decisions())
    return find_duplicates(contacts, config, employers=employers(crm), exclude=decided)


def mark_distinct(crm: CRM, left: Contact, right: Contact) -> DedupDecision:
    """Store the decision that *left* and *right* are different contacts."""
    if left.id == right.id:
        raise ValidationError.single("right", "merge.same_contact")
    decision = DedupDecision(
        key=decision_key(left, right),
        left_id=left.id,
        right_id=right.id,
        at=crm.now(),
        actor_id=crm.actor.id,
    )
    with crm.transaction():
        crm.store.add_dedup_decision(decision)
        crm._record("mark_distinct", "contact", left.id, reason=right.id)
    return decision


__all__ = ["CANDIDATES_PER_KEY", "DedupDecision", "check", "employers", "mark_distinct", "report"]
