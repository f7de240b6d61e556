"""The in-memory store behind ``memory://``: complete, thread-safe, not persistent.

Every mutation inside a transaction records its inverse in an undo log; a
failed transaction replays the log backwards, so a rollback costs as much as
the writes it undoes, not a copy of the whole store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

from crmkit.errors import ConflictError, NotFoundError, StoreError, ValidationError
from crmkit.model import Affiliation, Company, Contact, Person
from crmkit.store import format_number, sort_affiliations


class MemoryStore:
    """A :class:`crmkit.store.Store` that keeps everything in dicts."""

    capabilities: frozenset[str] = frozenset({"concurrent"})

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.RLock()
        self._contacts: dict[str, Contact] = {}
        self._by_number: dict[str, str] = {}
        self._affiliations: dict[str, Affiliation] = {}
        self._aff_by_contact: dict[str, set[str]] = {}
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
        self._contacts[stored.id] = stored
        self._by_number[number] = stored.id

        def undo() -> None:
            del self._contacts[stored.id]
            del self._by_number[number]

        self._record(undo)
        return stored

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

    def get_contact(self, contact_id: str) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact`."""
        self._check_open()
        try:
            with self._lock:
                return self._contacts[contact_id]
        except (KeyError, TypeError):
            raise NotFoundError(kind="contact", key=contact_id) from None

    def get_contact_by_number(self, number: str) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact_by_number`."""
        self._check_open()
        try:
            with self._lock:
                return self._contacts[self._by_number[number]]
        except (KeyError, TypeError):
            raise NotFoundError(kind="contact", key=number) from None

    def update_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.update_contact`."""
        with self.transaction():
            current = self.get_contact(contact.id)
            if current.version != contact.version:
                raise ConflictError(
                    kind="contact",
                    key=contact.number or contact.id,
                    expected=contact.version,
                    actual=current.version,
                )
            if type(current) is not type(contact):
                raise ValidationError.single(
                    "kind",
                    "value.invalid",
                    value=contact.kind,
                    reason=f"the stored contact is a {current.kind}",
                )
            stored = attrs.evolve(contact, number=current.number, version=current.version + 1)
            self._contacts[stored.id] = stored

            def undo() -> None:
                self._contacts[current.id] = current

            self._record(undo)
            return stored

    def delete_contact(self, contact_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_contact`."""
        with self.transaction():
            current = self.get_contact(contact_id)
            for aff_id in list(self._aff_by_contact.get(contact_id, ())):
                self._delete_affiliation(aff_id)
            del self._contacts[contact_id]
            assert current.number is not None
            del self._by_number[current.number]

            def undo() -> None:
                self._contacts[current.id] = current
                assert current.number is not None
                self._by_number[current.number] = current.id

            self._record(undo)

    def iter_contacts(self, *, include_archived: bool = True) -> Iterator[Contact]:
        """See :meth:`crmkit.store.Store.iter_contacts`."""
        self._check_open()
        with self._lock:
            snapshot = sorted(self._contacts.values(), key=_number_key)
        for contact in snapshot:
            if include_archived or contact.archived_at is None:
                yield contact

    def count_contacts(self, *, include_archived: bool = True) -> int:
        """See :meth:`crmkit.store.Store.count_contacts`."""
        self._check_open()
        if include_archived:
            return len(self._contacts)
        return sum(1 for c in self._contacts.values() if c.archived_at is None)

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

    def get_affiliation(self, affiliation_id: str) -> Affiliation:
        """See :meth:`crmkit.store.Store.get_affiliation`."""
        self._check_open()
        try:
            with self._lock:
                return self._affiliations[affiliation_id]
        except (KeyError, TypeError):
            raise NotFoundError(kind="affiliation", key=affiliation_id) from None

    def update_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.update_affiliation`."""
        with self.transaction():
            current = self.get_affiliation(affiliation.id)
            if current.version != affiliation.version:
                raise ConflictError(
                    kind="affiliation",
                    key=affiliation.id,
                    expected=affiliation.version,
                    actual=current.version,
                )
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

    def affiliations_of_person(self, person_id: str) -> list[Affiliation]:
        """See :meth:`crmkit.store.Store.affiliations_of_person`."""
        return self._affiliations_of(person_id, lambda a: a.person_id == person_id)

    def affiliations_of_company(self, company_id: str) -> list[Affiliation]:
        """See :meth:`crmkit.store.Store.affiliations_of_company`."""
        return self._affiliations_of(company_id, lambda a: a.company_id == company_id)

    def _affiliations_of(
        self, contact_id: str, keep: Callable[[Affiliation], bool]
    ) -> list[Affiliation]:
        self._check_open()
        with self._lock:
            ids = list(self._aff_by_contact.get(contact_id, ()))
            items = [self._affiliations[i] for i in ids]
        return sort_affiliations(a for a in items if keep(a))

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
