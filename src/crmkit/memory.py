"""The in-memory store behind ``memory://``: complete, thread-safe, not persistent.

Every mutation inside a transaction records its inverse in an undo log; a
failed transaction replays the log backwards, so a rollback costs as much as
the writes it undoes, not a copy of the whole store.

Search uses indexes kept up to date on every write: name words (with a sorted
word list for prefix look-ups), e-mail addresses, domains, phone numbers and
switchboard stems.  Which candidates match and how they rank is decided by
:mod:`crmkit.search`, as in every store.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

from crmkit import search as search_rules
from crmkit.audit import AuditRecord
from crmkit.auth import RowScope
from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.correspondence import (
    CorrespondenceEntry,
    EntryRevision,
    TimelineQuery,
    entry_words,
    select_entries,
    select_follow_ups,
)
from crmkit.errors import ConflictError, NotFoundError, StoreError, ValidationError
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.model import Affiliation, Company, Contact, Person
from crmkit.privacy import PrivacyRequest, Tombstone
from crmkit.retention import LegalHold
from crmkit.segments import Segment
from crmkit.store import (
    check_contact_update,
    check_entry_revision,
    check_version,
    erased_link,
    format_number,
    scan_segment,
    sort_affiliations,
)
from crmkit.summary import ContactSummary, SummaryFilter, matches, sample_key, summarize
from crmkit.sync import SyncLink


class _Index:
    """A multimap key → contact ids, optionally with sorted keys for prefix look-ups."""

    def __init__(self, *, sorted_keys: bool = False) -> None:
        self.ids: dict[str, set[str]] = {}
        self.keys: list[str] | None = [] if sorted_keys else None

    def add(self, keys: Iterable[str], contact_id: str) -> None:
        for key in keys:
            bucket = self.ids.get(key)
            if bucket is None:
                bucket = self.ids[key] = set()
                if self.keys is not None:
                    bisect.insort(self.keys, key)
            bucket.add(contact_id)

    def remove(self, keys: Iterable[str], contact_id: str) -> None:
        for key in keys:
            bucket = self.ids.get(key)
            if bucket is None:
                continue
            bucket.discard(contact_id)
            if not bucket:
                del self.ids[key]
                if self.keys is not None:
                    i = bisect.bisect_left(self.keys, key)
                    del self.keys[i]

    def get(self, key: str) -> set[str]:
        return self.ids.get(key, set())

    def prefixed(self, prefix: str) -> set[str]:
        assert self.keys is not None
        out: set[str] = set()
        i = bisect.bisect_left(self.keys, prefix)
        while i < len(self.keys) and self.keys[i].startswith(prefix):
            out |= self.ids[self.keys[i]]
            i += 1
        return out


class MemoryStore:
    """A :class:`crmkit.store.Store` that keeps everything in dicts."""

    capabilities: frozenset[str] = frozenset({"concurrent", "segments", "records", "sync_links"})

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.RLock()
        self._contacts: dict[str, Contact] = {}
        self._by_number: dict[str, str] = {}
        self._affiliations: dict[str, Affiliation] = {}
        self._aff_by_contact: dict[str, set[str]] = {}
        self._words = _Index(sorted_keys=True)
        self._emails = _Index()
        self._domains = _Index()
        self._phones = _Index()
        self._stems = _Index()
        self._owners = _Index()
        self._tags = _Index()
        self._relationships = _Index()
        self._audit: list[AuditRecord] = []
        self._revisions: dict[str, list[EntryRevision]] = {}
        self._entries_by_contact: dict[str, set[str]] = {}
        self._entry_words = _Index(sorted_keys=True)
        self._by_source: dict[str, str] = {}
        self._open_follow_ups: set[str] = set()
        self._bounces: dict[str, Bounce] = {}
        self._merges: dict[str, MergeRecord] = {}
        self._decisions: list[DedupDecision] = []
        self._consents: dict[str, list[ConsentEvent]] = {}
        self._consent_ids: set[str] = set()
        self._privacy: dict[str, PrivacyRequest] = {}
        self._holds: dict[str, LegalHold] = {}
        self._tombstones: list[Tombstone] = []
        self._records: dict[tuple[str, str], str] = {}
        self._links: dict[tuple[str, str, str], SyncLink] = {}
        self._link_remote: dict[tuple[str, str, str], str] = {}
        self._sync_state: dict[tuple[str, str, str], str] = {}
        self._next_number = 1
        self._undo: list[Callable[[], None]] | None = None
        self._depth = 0
        self._closed = False

    # -- transactions -------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nested blocks join the outer one."""
        self._check_open()
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._undo = []
            self._depth += 1
            try:
                yield
            except BaseException:
                if outer:
                    self._rollback()
                raise
            finally:
                self._depth -= 1
                if outer:
                    self._undo = None

    def _rollback(self) -> None:
        undo = self._undo or []
        while undo:
            undo.pop()()

    def _record(self, inverse: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(inverse)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(code="store.closed")

    # -- contacts -----------------------------------------------------------
    def add_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.add_contact`."""
        with self.transaction():
            return self._add_contact(contact)

    def add_contacts(self, contacts: Iterable[Contact]) -> list[Contact]:
        """See :meth:`crmkit.store.Store.add_contacts`."""
        with self.transaction():
            return [self._add_contact(c) for c in contacts]

    def _add_contact(self, contact: Contact) -> Contact:
        if contact.id in self._contacts:
            raise ConflictError(code="exists", kind="contact", key=contact.id)
        number = contact.number
        if number is None:
            number = self._allocate_number()
        elif number in self._by_number:
            raise ConflictError(code="exists", kind="contact number", key=number)
        else:
            self._bump_sequence(number)
        stored = attrs.evolve(contact, number=number, version=1)
        self._put_contact(stored)
        self._record(lambda: self._remove_contact(stored))
        return stored

    def _index_keys(self, c: Contact) -> list[tuple[_Index, tuple[str, ...]]]:
        stems = tuple(s for p in c.phones if (s := search_rules.switchboard_stem(p.e164)))
        return [
            (self._words, search_rules.name_words(c)),
            (self._emails, search_rules.email_keys(c)),
            (self._domains, search_rules.domain_keys(c)),
            (self._phones, tuple(p.e164 for p in c.phones)),
            (self._stems, stems if isinstance(c, Company) else ()),
            (self._owners, (c.owner,) if c.owner else ()),
            (self._tags, tuple(c.tags)),
            (self._relationships, tuple(r.value for r in c.relationships)),
        ]

    def _put_contact(self, c: Contact) -> None:
        assert c.number is not None
        self._contacts[c.id] = c
        self._by_number[c.number] = c.id
        for index, keys in self._index_keys(c):
            index.add(keys, c.id)

    def _remove_contact(self, c: Contact) -> None:
        assert c.number is not None
        del self._contacts[c.id]
        del self._by_number[c.number]
        for index, keys in self._index_keys(c):
            index.remove(keys, c.id)

    def _allocate_number(self) -> str:
        while format_number(self._next_number) in self._by_number:
            self._next_number += 1
        number = format_number(self._next_number)
        previous = self._next_number
        self._next_number += 1

        def undo() -> None:
            self._next_number = previous

        self._record(undo)
        return number

    def _bump_sequence(self, number: str) -> None:
        digits = number[1:]
        if digits.isdigit() and int(digits) >= self._next_number:
            previous = self._next_number
            self._next_number = int(digits) + 1

            def undo() -> None:
                self._next_number = previous

            self._record(undo)

    def get_contact(self, contact_id: str, *, scope: RowScope | None = None) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact`."""
        self._check_open()
        with self._lock:
            found = self._contacts.get(contact_id) if isinstance(contact_id, str) else None
            if found is None or not self._is_visible(found, scope):
                raise NotFoundError(kind="contact", key=contact_id)
            return found

    def get_contact_by_number(self, number: str, *, scope: RowScope | None = None) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact_by_number`."""
        self._check_open()
        with self._lock:
            contact_id = self._by_number.get(number) if isinstance(number, str) else None
            found = self._contacts[contact_id] if contact_id is not None else None
            if found is None or not self._is_visible(found, scope):
                raise NotFoundError(kind="contact", key=number)
            return found

    # -- row scopes -----------------------------------------------------------
    def _is_visible(self, contact: Contact, scope: RowScope | None) -> bool:
        if scope is None or contact.owner == scope.owner:
            return True
        if isinstance(contact, Person):
            for aff_id in self._aff_by_contact.get(contact.id, ()):
                company = self._contacts[self._affiliations[aff_id].company_id]
                if company.owner == scope.owner:
                    return True
        return False

    def _visible_ids(self, scope: RowScope) -> set[str]:
        ids = set(self._owners.get(scope.owner))
        for contact_id in list(ids):
            if isinstance(self._contacts[contact_id], Company):
                for aff_id in self._aff_by_contact.get(contact_id, ()):
                    ids.add(self._affiliations[aff_id].person_id)
        return ids

    def _aff_visible(self, aff: Affiliation, scope: RowScope | None) -> bool:
        return scope is None or any(
            self._is_visible(self._contacts[i], scope) for i in (aff.person_id, aff.company_id)
        )

    def update_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.update_contact`."""
        with self.transaction():
            current = self.get_contact(contact.id)
            check_contact_update(contact, current.version, current.kind)
            stored = attrs.evolve(contact, number=current.number, version=current.version + 1)
            self._remove_contact(current)
            self._put_contact(stored)

            def undo() -> None:
                self._remove_contact(stored)
                self._put_contact(current)

            self._record(undo)
            return stored

    def delete_contact(self, contact_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_contact`."""
        with self.transaction():
            current = self.get_contact(contact_id)
            if self._entries_by_contact.get(contact_id):
                raise ConflictError(code="store.contact_has_correspondence", key=contact_id)
            if self._consents.get(contact_id):
                raise ConflictError(code="store.contact_has_consents", key=contact_id)
            for aff_id in list(self._aff_by_contact.get(contact_id, ())):
                self._delete_affiliation(aff_id)
            for link in [k for k in self._links.values() if k.contact_id == contact_id]:
                self._set_link(erased_link(link))
            self._remove_contact(current)
            self._record(lambda: self._put_contact(current))

    def iter_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> Iterator[Contact]:
        """See :meth:`crmkit.store.Store.iter_contacts`."""
        self._check_open()
        with self._lock:
            if scope is None:
                pool: Iterable[Contact] = self._contacts.values()
            else:
                pool = [self._contacts[i] for i in self._visible_ids(scope)]
            snapshot = sorted(pool, key=_number_key)
        for contact in snapshot:
            if include_archived or contact.archived_at is None:
                yield contact

    def count_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> int:
        """See :meth:`crmkit.store.Store.count_contacts`."""
        self._check_open()
        if include_archived and scope is None:
            return len(self._contacts)
        return sum(1 for _ in self.iter_contacts(include_archived=include_archived, scope=scope))

    # -- affiliations -------------------------------------------------------
    def add_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.add_affiliation`."""
        with self.transaction():
            if affiliation.id in self._affiliations:
                raise ConflictError(code="exists", kind="affiliation", key=affiliation.id)
            self._check_kinds(affiliation)
            stored = attrs.evolve(affiliation, version=1)
            self._put_affiliation(stored)

            def undo() -> None:
                self._remove_affiliation(stored)

            self._record(undo)
            return stored

    def _check_kinds(self, affiliation: Affiliation) -> None:
        person = self.get_contact(affiliation.person_id)
        company = self.get_contact(affiliation.company_id)
        if not isinstance(person, Person):
            raise ValidationError.single(
                "person_id", "affiliation.kind", expected="person", actual=person.kind
            )
        if not isinstance(company, Company):
            raise ValidationError.single(
                "company_id", "affiliation.kind", expected="company", actual=company.kind
            )

    def _put_affiliation(self, aff: Affiliation) -> None:
        self._affiliations[aff.id] = aff
        self._aff_by_contact.setdefault(aff.person_id, set()).add(aff.id)
        self._aff_by_contact.setdefault(aff.company_id, set()).add(aff.id)

    def _remove_affiliation(self, aff: Affiliation) -> None:
        del self._affiliations[aff.id]
        self._aff_by_contact[aff.person_id].discard(aff.id)
        self._aff_by_contact[aff.company_id].discard(aff.id)

    def get_affiliation(self, affiliation_id: str, *, scope: RowScope | None = None) -> Affiliation:
        """See :meth:`crmkit.store.Store.get_affiliation`."""
        self._check_open()
        with self._lock:
            found = (
                self._affiliations.get(affiliation_id) if isinstance(affiliation_id, str) else None
            )
            if found is None or not self._aff_visible(found, scope):
                raise NotFoundError(kind="affiliation", key=affiliation_id)
            return found

    def update_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.update_affiliation`."""
        with self.transaction():
            current = self.get_affiliation(affiliation.id)
            check_version("affiliation", affiliation.id, affiliation.version, current.version)
            self._check_kinds(affiliation)
            stored = attrs.evolve(affiliation, version=current.version + 1)
            self._remove_affiliation(current)
            self._put_affiliation(stored)

            def undo() -> None:
                self._remove_affiliation(stored)
                self._put_affiliation(current)

            self._record(undo)
            return stored

    def delete_affiliation(self, affiliation_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_affiliation`."""
        with self.transaction():
            self.get_affiliation(affiliation_id)
            self._delete_affiliation(affiliation_id)

    def _delete_affiliation(self, affiliation_id: str) -> None:
        current = self._affiliations[affiliation_id]
        self._remove_affiliation(current)

        def undo() -> None:
            self._put_affiliation(current)

        self._record(undo)

    def affiliations_of_person(
        self, person_id: str, *, scope: RowScope | None = None
    ) -> list[Affiliation]:
        """See :meth:`crmkit.store.Store.affiliations_of_person`."""
        return self._affiliations_of(person_id, lambda a: a.person_id == person_id, scope)

    def affiliations_of_company(
        self, company_id: str, *, scope: RowScope | None = None
    ) -> list[Affiliation]:
        """See :meth:`crmkit.store.Store.affiliations_of_company`."""
        return self._affiliations_of(company_id, lambda a: a.company_id == company_id, scope)

    def _affiliations_of(
        self, contact_id: str, keep: Callable[[Affiliation], bool], scope: RowScope | None
    ) -> list[Affiliation]:
        self._check_open()
        with self._lock:
            ids = list(self._aff_by_contact.get(contact_id, ()))
            items = [
                a
                for a in (self._affiliations[i] for i in ids)
                if keep(a) and self._aff_visible(a, scope)
            ]
        return sort_affiliations(items)

    # -- search -------------------------------------------------------------
    def search(self, query: search_rules.Query, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.search`."""
        self._check_open()
        with self._lock:
            ids = self._candidates(query)
            if scope is not None:
                visible = self._visible_ids(scope)
                ids = visible if ids is None else ids & visible
            if ids is None:
                candidates: Iterable[Contact] = sorted(
                    self._contacts.values(), key=search_rules.number_key
                )
            else:
                candidates = [self._contacts[i] for i in ids]
            return search_rules.select(candidates, query)

    def _candidates(self, query: search_rules.Query) -> set[str] | None:
        if query.mode == "all":
            return None
        if query.mode == "number":
            found = self._by_number.get(query.value)
            return {found} if found else set()
        if query.mode == "email":
            return set(self._emails.get(query.value))
        if query.mode == "domain":
            return set(self._domains.get(query.value))
        if query.mode == "phone":
            return set(self._phones.get(query.value))
        result: set[str] | None = None
        for word in sorted(query.words, key=len, reverse=True):
            found_ids = self._words.prefixed(word)
            result = found_ids if result is None else result & found_ids
            if not result:
                return set()
        return result or set()

    def find_by_phone(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.find_by_phone`."""
        self._check_open()
        with self._lock:
            found = (self._contacts[i] for i in self._phones.get(e164))
            return [c for c in found if self._is_visible(c, scope)]

    def find_switchboards(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.find_switchboards`."""
        self._check_open()
        with self._lock:
            ids: set[str] = set()
            for prefix in search_rules.stem_prefixes(e164):
                ids |= self._stems.get(prefix)
            found = (self._contacts[i] for i in ids)
            return [c for c in found if self._is_visible(c, scope)]

    # -- correspondence ----------------------------------------------------------
    def _entry(self, entry_id: str) -> CorrespondenceEntry:
        revisions = self._revisions.get(entry_id)
        if not revisions:
            raise NotFoundError(kind="correspondence entry", key=entry_id)
        return revisions[-1].entry

    def _index_entry(self, entry: CorrespondenceEntry, add: bool) -> None:
        for contact_id in entry.contact_ids:
            bucket = self._entries_by_contact.setdefault(contact_id, set())
            if add:
                bucket.add(entry.id)
            else:
                bucket.discard(entry.id)
                if not bucket:
                    del self._entries_by_contact[contact_id]
        if add:
            self._entry_words.add(entry_words(entry), entry.id)
        else:
            self._entry_words.remove(entry_words(entry), entry.id)
        if entry.has_open_follow_up and add:
            self._open_follow_ups.add(entry.id)
        elif not add:
            self._open_follow_ups.discard(entry.id)

    def _check_entry_contacts(self, entry: CorrespondenceEntry) -> None:
        for contact_id in entry.contact_ids:
            if contact_id not in self._contacts:
                raise NotFoundError(kind="contact", key=contact_id)

    def add_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.add_entry`."""
        with self.transaction():
            entry = revision.entry
            if entry.id in self._revisions:
                raise ConflictError(code="exists", kind="correspondence entry", key=entry.id)
            if entry.source is not None and entry.source in self._by_source:
                raise ConflictError(code="exists", kind="correspondence entry", key=entry.source)
            check_entry_revision(revision, None)
            self._check_entry_contacts(entry)
            self._revisions[entry.id] = [revision]
            self._index_entry(entry, True)
            if entry.source is not None:
                self._by_source[entry.source] = entry.id

            def undo() -> None:
                self._index_entry(entry, False)
                del self._revisions[entry.id]
                if entry.source is not None:
                    del self._by_source[entry.source]

            self._record(undo)
            return entry

    def correct_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.correct_entry`."""
        with self.transaction():
            entry = revision.entry
            current = self._entry(entry.id)
            check_entry_revision(revision, current.revision)
            self._check_entry_contacts(entry)
            self._index_entry(current, False)
            self._revisions[entry.id].append(revision)
            self._index_entry(entry, True)

            def undo() -> None:
                self._index_entry(entry, False)
                self._revisions[entry.id].pop()
                self._index_entry(current, True)

            self._record(undo)
            return entry

    def delete_entry(self, entry_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_entry`."""
        with self.transaction():
            entry = self._entry(entry_id)
            revisions = self._revisions.pop(entry_id)
            self._index_entry(entry, False)
            if entry.source is not None:
                del self._by_source[entry.source]

            def undo() -> None:
                self._revisions[entry_id] = revisions
                self._index_entry(entry, True)
                if entry.source is not None:
                    self._by_source[entry.source] = entry_id

            self._record(undo)

    def _entry_visible(self, entry: CorrespondenceEntry, scope: RowScope | None) -> bool:
        return scope is None or any(
            self._is_visible(self._contacts[i], scope)
            for i in entry.contact_ids
            if i in self._contacts
        )

    def get_entry(self, entry_id: str, *, scope: RowScope | None = None) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.get_entry`."""
        self._check_open()
        with self._lock:
            entry = self._entry(entry_id)
            if not self._entry_visible(entry, scope):
                raise NotFoundError(kind="correspondence entry", key=entry_id)
            return entry

    def find_entry_by_source(self, source: str) -> CorrespondenceEntry | None:
        """See :meth:`crmkit.store.Store.find_entry_by_source`."""
        self._check_open()
        with self._lock:
            entry_id = self._by_source.get(source)
            return None if entry_id is None else self._entry(entry_id)

    def entry_revisions(self, entry_id: str) -> list[EntryRevision]:
        """See :meth:`crmkit.store.Store.entry_revisions`."""
        self._check_open()
        with self._lock:
            self._entry(entry_id)
            return list(self._revisions[entry_id])

    def timeline(self, query: TimelineQuery) -> list[CorrespondenceEntry]:
        """See :meth:`crmkit.store.Store.timeline`."""
        self._check_open()
        with self._lock:
            ids: set[str] = set()
            for contact_id in query.contact_ids:
                ids |= self._entries_by_contact.get(contact_id, set())
            for word in query.words:
                ids &= self._entry_words.prefixed(word)
            return select_entries((self._entry(i) for i in ids), query)

    def open_follow_ups(
        self,
        *,
        due_by: dt.date | None = None,
        assignee: str | None = None,
        scope: RowScope | None = None,
    ) -> list[CorrespondenceEntry]:
        """See :meth:`crmkit.store.Store.open_follow_ups`."""
        self._check_open()
        with self._lock:
            found = (self._entry(i) for i in self._open_follow_ups)
            visible = [e for e in found if self._entry_visible(e, scope)]
        return select_follow_ups(visible, due_by=due_by, assignee=assignee)

    # -- summaries and bounces ----------------------------------------------------
    def _last_contact(self, contact_id: str) -> dt.datetime | None:
        entries = [self._entry(i) for i in self._entries_by_contact.get(contact_id, ())]
        return max((e.occurred_at for e in entries), default=None)

    def summaries(
        self,
        where: SummaryFilter,
        *,
        scope: RowScope | None = None,
        limit: int | None = None,
    ) -> Iterator[ContactSummary]:
        """See :meth:`crmkit.store.Store.summaries` (a scan with the indexes at hand)."""
        self._check_open()
        with self._lock:
            found: list[Contact] = []
            linked: dict[str, bool] = {}
            for contact in self._contacts.values():
                if not self._is_visible(contact, scope):
                    continue
                affs = [self._affiliations[i] for i in self._aff_by_contact.get(contact.id, ())]
                own = [
                    a
                    for a in affs
                    if contact.id in (a.person_id, a.company_id)
                    and (where.active_on is None or a.is_active(where.active_on))
                ]
                if matches(
                    contact,
                    where,
                    roles=frozenset(r for a in own for r in a.roles),
                    affiliated=bool(own),
                    last_contact=self._last_contact(contact.id)
                    if where.silent_since is not None
                    else None,
                ):
                    found.append(contact)
                    linked[contact.id] = bool(own)
        if where.sample_seed is not None:
            seed = where.sample_seed
            found.sort(key=lambda c: sample_key(c.number or "", seed))
        else:
            found.sort(key=_number_key)
        for contact in found[:limit] if limit is not None else found:
            yield summarize(contact, affiliated=linked[contact.id])

    def segment_ids(
        self,
        segment: Segment,
        *,
        include_archived: bool = False,
        scope: RowScope | None = None,
    ) -> list[str]:
        """See :meth:`crmkit.store.SegmentStore.segment_ids`.

        Candidates come from the owner, tag and relationship indexes for
        the conditions at the segment's top (all of them must hold there);
        the rest is :meth:`crmkit.segments.Segment.matches`.
        """
        if not segment.pushable():
            raise ValidationError.single(
                "segment", "value.invalid", value="consent/predicates", reason="not pushable"
            )
        self._check_open()
        with self._lock:
            found = self._segment_candidates(segment)
            if found is not None:
                pool = [self._contacts[i] for i in found]
            else:
                pool = list(self._contacts.values())
            chosen = [
                c
                for c in pool
                if (include_archived or c.archived_at is None) and self._is_visible(c, scope)
            ]
            chosen.sort(key=_number_key)
            return scan_segment(chosen, segment, self._last_contact)

    def _segment_candidates(self, s: Segment) -> set[str] | None:
        """A superset of the ids *s* selects, from the indexes (``None``: no indexed condition)."""
        pools: list[set[str]] = []
        if s.owner is not None:
            pools.append(self._owners.get(s.owner))
        pools.extend(self._tags.get(tag) for tag in s.tags_all)
        for index, keys in ((self._tags, s.tags_any), (self._relationships, s.relationships)):
            if keys:
                pools.append(set().union(*(index.get(key) for key in keys)))
        if not pools:
            return None
        pools.sort(key=len)
        return pools[0].intersection(*pools[1:])

    def add_bounce(self, bounce: Bounce) -> Bounce:
        """See :meth:`crmkit.store.Store.add_bounce`."""
        with self.transaction():
            if bounce.id in self._bounces:
                raise ConflictError(code="exists", kind="bounce", key=bounce.id)
            stored = attrs.evolve(bounce, version=1)
            self._bounces[stored.id] = stored
            self._record(lambda: self._forget_bounce(stored.id))
            return stored

    def _forget_bounce(self, bounce_id: str) -> None:
        del self._bounces[bounce_id]

    def update_bounce(self, bounce: Bounce) -> Bounce:
        """See :meth:`crmkit.store.Store.update_bounce`."""
        with self.transaction():
            current = self.get_bounce(bounce.id)
            check_version("bounce", bounce.id, bounce.version, current.version)
            stored = attrs.evolve(bounce, version=current.version + 1)
            self._bounces[stored.id] = stored

            def undo() -> None:
                self._bounces[current.id] = current

            self._record(undo)
            return stored

    def get_bounce(self, bounce_id: str) -> Bounce:
        """See :meth:`crmkit.store.Store.get_bounce`."""
        self._check_open()
        with self._lock:
            found = self._bounces.get(bounce_id) if isinstance(bounce_id, str) else None
        if found is None:
            raise NotFoundError(kind="bounce", key=bounce_id)
        return found

    def iter_bounces(
        self, *, processed: bool | None = None, address: str | None = None
    ) -> Iterator[Bounce]:
        """See :meth:`crmkit.store.Store.iter_bounces`."""
        self._check_open()
        with self._lock:
            items = sorted(self._bounces.values(), key=lambda b: (b.at, b.id))
        for b in items:
            if processed is not None and b.processed != processed:
                continue
            if address is not None and b.address.lower() != address.lower():
                continue
            yield b

    # -- merges --------------------------------------------------------------------
    def add_merge(self, record: MergeRecord) -> None:
        """See :meth:`crmkit.store.Store.add_merge`."""
        with self.transaction():
            if record.id in self._merges:
                raise ConflictError(code="exists", kind="merge", key=record.id)
            self._merges[record.id] = record
            self._record(lambda: self._forget_merge(record.id))

    def _forget_merge(self, merge_id: str) -> None:
        del self._merges[merge_id]

    def update_merge(self, record: MergeRecord) -> None:
        """See :meth:`crmkit.store.Store.update_merge`."""
        with self.transaction():
            current = self.get_merge(record.id)
            self._merges[record.id] = record

            def undo() -> None:
                self._merges[current.id] = current

            self._record(undo)

    def get_merge(self, merge_id: str) -> MergeRecord:
        """See :meth:`crmkit.store.Store.get_merge`."""
        self._check_open()
        with self._lock:
            found = self._merges.get(merge_id) if isinstance(merge_id, str) else None
        if found is None:
            raise NotFoundError(kind="merge", key=merge_id)
        return found

    def merges_of(self, survivor_id: str) -> list[MergeRecord]:
        """See :meth:`crmkit.store.Store.merges_of`."""
        self._check_open()
        with self._lock:
            return [m for m in self._merges.values() if m.survivor_id == survivor_id]

    def add_dedup_decision(self, decision: DedupDecision) -> None:
        """See :meth:`crmkit.store.Store.add_dedup_decision`."""
        with self.transaction():
            if any(d.id == decision.id for d in self._decisions):
                raise ConflictError(code="exists", kind="decision", key=decision.id)
            self._decisions.append(decision)
            self._record(lambda: self._decisions.remove(decision))

    def dedup_decisions(self) -> list[DedupDecision]:
        """See :meth:`crmkit.store.Store.dedup_decisions`."""
        self._check_open()
        with self._lock:
            return list(self._decisions)

    # -- consent ledger --------------------------------------------------------------
    def append_consent_event(self, event: ConsentEvent) -> None:
        """See :meth:`crmkit.store.Store.append_consent_event`."""
        with self.transaction():
            if event.id in self._consent_ids:
                raise ConflictError(code="exists", kind="consent event", key=event.id)
            if event.contact_id not in self._contacts:
                raise NotFoundError(kind="contact", key=event.contact_id)
            self._consents.setdefault(event.contact_id, []).append(event)
            self._consent_ids.add(event.id)

            def undo() -> None:
                self._consents[event.contact_id].remove(event)
                self._consent_ids.discard(event.id)

            self._record(undo)

    def consent_events(self, contact_id: str, *, purpose: str | None = None) -> list[ConsentEvent]:
        """See :meth:`crmkit.store.Store.consent_events`."""
        self._check_open()
        with self._lock:
            events = list(self._consents.get(contact_id, ()))
        chosen = [e for e in events if purpose is None or e.purpose == purpose]
        return sorted(chosen, key=lambda e: e.at)

    def consent_contacts(self) -> list[str]:
        """See :meth:`crmkit.store.Store.consent_contacts`."""
        self._check_open()
        with self._lock:
            return [i for i, events in self._consents.items() if events]

    # -- data-subject requests --------------------------------------------------------
    def add_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.add_privacy_request`."""
        with self.transaction():
            if request.id in self._privacy:
                raise ConflictError(code="exists", kind="privacy request", key=request.id)
            stored = attrs.evolve(request, version=1)
            self._privacy[stored.id] = stored
            self._record(lambda: self._forget_privacy(stored.id))
            return stored

    def _forget_privacy(self, request_id: str) -> None:
        del self._privacy[request_id]

    def update_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.update_privacy_request`."""
        with self.transaction():
            current = self.get_privacy_request(request.id)
            check_version("privacy request", request.id, request.version, current.version)
            stored = attrs.evolve(request, version=current.version + 1)
            self._privacy[stored.id] = stored

            def undo() -> None:
                self._privacy[current.id] = current

            self._record(undo)
            return stored

    def get_privacy_request(self, request_id: str) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.get_privacy_request`."""
        self._check_open()
        with self._lock:
            found = self._privacy.get(request_id) if isinstance(request_id, str) else None
        if found is None:
            raise NotFoundError(kind="privacy request", key=request_id)
        return found

    def iter_privacy_requests(self, *, status: str | None = None) -> list[PrivacyRequest]:
        """See :meth:`crmkit.store.Store.iter_privacy_requests`."""
        self._check_open()
        with self._lock:
            items = list(self._privacy.values())
        chosen = [r for r in items if status is None or r.status == status]
        return sorted(chosen, key=lambda r: r.received)

    def put_legal_hold(self, hold: LegalHold) -> None:
        """See :meth:`crmkit.store.Store.put_legal_hold`."""
        with self.transaction():
            if hold.contact_id not in self._contacts:
                raise NotFoundError(kind="contact", key=hold.contact_id)
            before = self._holds.get(hold.id)
            self._holds[hold.id] = hold

            def undo() -> None:
                if before is None:
                    del self._holds[hold.id]
                else:
                    self._holds[hold.id] = before

            self._record(undo)

    def legal_holds(self, *, contact_id: str | None = None) -> list[LegalHold]:
        """See :meth:`crmkit.store.Store.legal_holds`."""
        self._check_open()
        with self._lock:
            items = list(self._holds.values())
        return [h for h in items if contact_id is None or h.contact_id == contact_id]

    # -- erasure --------------------------------------------------------------------
    def erase_contact(
        self, contact_id: str, tombstone: Tombstone, *, scrub: Collection[str] = ()
    ) -> None:
        """See :meth:`crmkit.store.Store.erase_contact`."""
        with self.transaction():
            self.get_contact(contact_id)
            for entry_id in list(self._entries_by_contact.get(contact_id, ())):
                entry = self._entry(entry_id)
                if entry.contact_ids != (contact_id,):
                    raise ConflictError(
                        code="store.entry_shared", kind="correspondence entry", key=entry_id
                    )
                self.delete_entry(entry_id)
            events = self._consents.pop(contact_id, [])
            self._consent_ids.difference_update(e.id for e in events)
            holds = {k: h for k, h in self._holds.items() if h.contact_id == contact_id}
            for key in holds:
                del self._holds[key]
            bounces = {k: b for k, b in self._bounces.items() if contact_id in b.contact_ids}
            for key in bounces:
                del self._bounces[key]
            merges = {
                k: m
                for k, m in self._merges.items()
                if m.survivor_id == contact_id or contact_id in m.merged_ids
            }
            for key in merges:
                del self._merges[key]
            requests = {
                k: r for k, r in self._privacy.items() if r.contact_id == contact_id and r.requester
            }
            for key, req in requests.items():
                self._privacy[key] = attrs.evolve(req, requester="")
            ids = {contact_id, *scrub}
            audit_before = list(self._audit)
            self._audit[:] = [
                attrs.evolve(
                    r, changes=tuple(attrs.evolve(c, old=None, new=None) for c in r.changes)
                )
                if r.entity_id in ids
                else r
                for r in self._audit
            ]
            self._tombstones.append(tombstone)

            def undo() -> None:
                if events:
                    self._consents[contact_id] = events
                    self._consent_ids.update(e.id for e in events)
                self._holds.update(holds)
                self._bounces.update(bounces)
                self._merges.update(merges)
                self._privacy.update(requests)
                self._audit[:] = audit_before
                self._tombstones.remove(tombstone)

            self._record(undo)
            self.delete_contact(contact_id)

    def tombstones(self) -> list[Tombstone]:
        """See :meth:`crmkit.store.Store.tombstones`."""
        self._check_open()
        with self._lock:
            return list(self._tombstones)

    def purge_deleted(self) -> None:
        """See :meth:`crmkit.store.Store.purge_deleted` (nothing to purge in memory)."""
        self._check_open()

    # -- records ---------------------------------------------------------------------
    def put_record(self, kind: str, key: str, data: Mapping[str, Any]) -> None:
        """See :meth:`crmkit.store.RecordStore.put_record` (kept as JSON text, like a database)."""
        text = json.dumps(dict(data), ensure_ascii=False, sort_keys=True)
        with self.transaction():
            before = self._records.get((kind, key))
            self._records[(kind, key)] = text

            def undo() -> None:
                if before is None:
                    del self._records[(kind, key)]
                else:
                    self._records[(kind, key)] = before

            self._record(undo)

    def get_record(self, kind: str, key: str) -> dict[str, Any]:
        """See :meth:`crmkit.store.RecordStore.get_record`."""
        self._check_open()
        with self._lock:
            text = self._records.get((kind, key))
        if text is None:
            raise NotFoundError(kind=kind, key=key)
        found: dict[str, Any] = json.loads(text)
        return found

    def iter_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """See :meth:`crmkit.store.RecordStore.iter_records`."""
        self._check_open()
        with self._lock:
            items = sorted((k, t) for (c, k), t in self._records.items() if c == kind)
        return [(k, json.loads(t)) for k, t in items]

    def delete_record(self, kind: str, key: str) -> None:
        """See :meth:`crmkit.store.RecordStore.delete_record`."""
        with self.transaction():
            before = self._records.pop((kind, key), None)
            if before is None:
                raise NotFoundError(kind=kind, key=key)
            self._record(lambda: self._records.__setitem__((kind, key), before))

    # -- sync links (capability "sync_links") ---------------------------------------
    def put_sync_link(self, link: SyncLink) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.put_sync_link`."""
        with self.transaction():
            if link.status != "erased":
                self.get_contact(link.contact_id)
            if link.remote_id is not None:
                holder = self._link_remote.get((link.provider, link.mailbox, link.remote_id))
                if holder is not None and holder != link.contact_id:
                    raise ConflictError(code="exists", kind="sync link", key=link.remote_id)
            self._set_link(link)

    def _set_link(self, link: SyncLink) -> None:
        old = self._links.get(link.key)
        self._put_link(old, link)
        self._record(lambda: self._put_link(link, old))

    def _put_link(self, old: SyncLink | None, new: SyncLink | None) -> None:
        if old is not None:
            self._links.pop(old.key, None)
            if old.remote_id is not None:
                self._link_remote.pop((old.provider, old.mailbox, old.remote_id), None)
        if new is not None:
            self._links[new.key] = new
            if new.remote_id is not None:
                self._link_remote[(new.provider, new.mailbox, new.remote_id)] = new.contact_id

    def get_sync_link(self, contact_id: str, provider: str, mailbox: str) -> SyncLink | None:
        """See :meth:`crmkit.store.SyncLinkStore.get_sync_link`."""
        self._check_open()
        with self._lock:
            return self._links.get((contact_id, provider, mailbox))

    def find_sync_link(self, provider: str, mailbox: str, remote_id: str) -> SyncLink | None:
        """See :meth:`crmkit.store.SyncLinkStore.find_sync_link`."""
        self._check_open()
        with self._lock:
            holder = self._link_remote.get((provider, mailbox, remote_id))
            return None if holder is None else self._links.get((holder, provider, mailbox))

    def sync_links(
        self,
        *,
        provider: str | None = None,
        mailbox: str | None = None,
        contact_id: str | None = None,
        status: str | None = None,
    ) -> list[SyncLink]:
        """See :meth:`crmkit.store.SyncLinkStore.sync_links`."""
        self._check_open()
        with self._lock:
            return [
                link
                for key, link in sorted(self._links.items())
                if (provider is None or link.provider == provider)
                and (mailbox is None or link.mailbox == mailbox)
                and (contact_id is None or link.contact_id == contact_id)
                and (status is None or link.status == status)
            ]

    def delete_sync_link(self, contact_id: str, provider: str, mailbox: str) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.delete_sync_link`."""
        with self.transaction():
            old = self._links.get((contact_id, provider, mailbox))
            if old is not None:
                self._put_link(old, None)
                self._record(lambda: self._put_link(None, old))

    def put_sync_state(self, provider: str, mailbox: str, key: str, value: str | None) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.put_sync_state`."""
        with self.transaction():
            k = (provider, mailbox, key)
            old = self._sync_state.get(k)
            self._put_state(k, value)
            self._record(lambda: self._put_state(k, old))

    def _put_state(self, key: tuple[str, str, str], value: str | None) -> None:
        if value is None:
            self._sync_state.pop(key, None)
        else:
            self._sync_state[key] = value

    def get_sync_state(self, provider: str, mailbox: str, key: str) -> str | None:
        """See :meth:`crmkit.store.SyncLinkStore.get_sync_state`."""
        self._check_open()
        with self._lock:
            return self._sync_state.get((provider, mailbox, key))

    # -- audit -------------------------------------------------------------------
    def append_audit(self, record: AuditRecord) -> None:
        """See :meth:`crmkit.store.Store.append_audit`."""
        self._check_open()
        with self._lock:
            self._audit.append(record)
            self._record(lambda: self._remove_audit(record))

    def _remove_audit(self, record: AuditRecord) -> None:
        self._audit.remove(record)

    def iter_audit(
        self, *, entity_id: str | None = None, actor_id: str | None = None
    ) -> Iterator[AuditRecord]:
        """See :meth:`crmkit.store.Store.iter_audit`."""
        self._check_open()
        with self._lock:
            records = list(self._audit)
        for r in records:
            if (entity_id is None or r.entity_id == entity_id) and (
                actor_id is None or r.actor_id == actor_id
            ):
                yield r

    def close(self) -> None:
        """Forget everything; later calls raise :class:`crmkit.StoreError`."""
        self._closed = True


def _number_key(contact: Contact) -> tuple[int, str]:
    number = contact.number or ""
    return (len(number), number)


def open_memory_store(url: str, options: Mapping[str, Any]) -> MemoryStore:
    """The factory registered for ``memory://`` (options are ignored)."""
    return MemoryStore(url)


__all__ = ["MemoryStore", "open_memory_store"]
