"""The facade: :func:`open` joins a store, the domain and the plugins.

>>> import crmkit
>>> crm = crmkit.open("memory://")
>>> acme = crm.contacts.add(crmkit.Company(name="Muster GmbH", emails=["info@muster.de"]))
>>> acme.number
'C00001'
>>> max_ = crm.contacts.add(crmkit.Person(first_name="Max", last_name="Mustermann"))
>>> link = crm.affiliations.link(max_, acme, position="Geschäftsführer",
...                              roles={"decision_maker"})
>>> [a.position for a in crm.affiliations.of_company(acme)]
['Geschäftsführer']

Every write is one transaction; plugins hear about it (``crmkit_on_*``)
only after it committed.  Time comes from the ``clock`` given to
:func:`open` (UTC now by default), never from the domain.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from crmkit import normalize
from crmkit import search as search_mod
from crmkit.errors import Finding, StoreError, ValidationError
from crmkit.model import Affiliation, Company, Contact, Person, link
from crmkit.plugins import Hooks, PluginManager, make_plugin_manager
from crmkit.search import PhoneMatch
from crmkit.store import KNOWN_DISTRIBUTIONS, Store

Clock = Callable[[], dt.datetime]
ContactRef = Contact | str
AffiliationRef = Affiliation | str
C = TypeVar("C", bound=Contact)

_NUMBER_RE = re.compile(r"^[Cc]\d{5,}$")


def utc_now() -> dt.datetime:
    """The default clock: the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def open(
    url: str = "memory://",
    *,
    plugins: Iterable[object] = (),
    load_entry_points: bool = True,
    clock: Clock | None = None,
    **options: Any,
) -> CRM:
    """Open a CRM on the store at *url* (``memory://``, ``sqlite:///crm.db`` …).

    :param plugins: extra plugin objects (modules or instances with
        ``@crmkit.hookimpl`` functions) to register, e.g. in tests.
    :param load_entry_points: load installed plugins from the ``crmkit``
        entry-point group (default); ``False`` gives only built-ins and *plugins*.
    :param clock: a function returning the current aware datetime; defaults
        to UTC now.  Pass a fixed clock in tests.
    :param options: passed to the store factory.

    An unknown scheme raises :class:`crmkit.StoreError` listing the known
    schemes and which distribution to install.
    """
    if not isinstance(url, str) or "://" not in url:
        raise StoreError(code="store.bad_url", url=url)
    scheme = urlsplit(url).scheme.lower()
    pm = make_plugin_manager(plugins, load_entry_points=load_entry_points)
    hooks = Hooks(pm)
    factories = hooks.store_factories()
    if scheme not in factories:
        dist = KNOWN_DISTRIBUTIONS.get(scheme)
        raise StoreError(
            code="store.unknown_scheme_install" if dist else "store.unknown_scheme",
            scheme=scheme,
            known=", ".join(sorted(f"{s}://" for s in factories)),
            distribution=dist,
        )
    factory, _plugin = factories[scheme]
    store = factory(url, options)
    return CRM(store, pm=pm, clock=clock or utc_now)


class CRM:
    """The application facade.  Get one from :func:`crmkit.open`.

    Sub-APIs: :attr:`contacts` (:class:`Contacts`) and :attr:`affiliations`
    (:class:`Affiliations`).  Use it as a context manager to close the store.
    """

    def __init__(self, store: Store, *, pm: PluginManager, clock: Clock) -> None:
        self.store = store
        self.pm = pm
        self.hooks = Hooks(pm)
        self.clock = clock
        self._depth = 0
        self._events: list[tuple[str, dict[str, Any]]] = []
        self.contacts = Contacts(self)
        self.affiliations = Affiliations(self)

    @property
    def url(self) -> str:
        """The store URL this CRM was opened on."""
        return self.store.url

    def now(self) -> dt.datetime:
        """The current time from the clock, checked to be timezone-aware, in UTC."""
        value = self.clock()
        if value.tzinfo is None:
            raise ValidationError.single("clock", "datetime.naive")
        return value.astimezone(dt.UTC)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several facade calls into one all-or-nothing write.

        Plugins are notified of the changes only after the outermost block
        committed.
        """
        outer = self._depth == 0
        if outer:
            self._events = []
        self._depth += 1
        try:
            with self.store.transaction():
                yield
        except BaseException:
            if outer:
                self._events = []
            raise
        finally:
            self._depth -= 1
        if outer:
            events, self._events = self._events, []
            for hook, kwargs in events:
                self.hooks.notify(hook, crm=self, **kwargs)

    def _emit(self, hook: str, **kwargs: Any) -> None:
        self._events.append((hook, kwargs))

    def search(
        self,
        text: str = "",
        *,
        kind: str | None = None,
        relationships: Iterable[str] | str | None = None,
        tags: Iterable[str] | str | None = None,
        include_archived: bool = False,
        limit: int = 50,
    ) -> list[Contact]:
        """Ranked contacts for a name, number, e-mail, domain or phone number.

        ``crm.search("Müller")``, ``crm.search("@muster.de")``,
        ``crm.search("C00001")``, ``crm.search("0170 1234567")``,
        ``crm.search("", kind="company", relationships={"customer"},
        tags={"Branche-IT"})``.  Any text is safe to pass.  The rules are in
        :mod:`crmkit.search`.
        """
        query = search_mod.analyze(
            text,
            kind=kind,
            relationships=relationships,
            tags=tags,
            include_archived=include_archived,
            limit=limit,
        )
        return self.store.search(query)

    def lookup_phone(self, number: str) -> list[PhoneMatch]:
        """Caller-id: the contacts behind a phone number in any format.

        Exact E.164 matches come first.  When no person has the number, a
        direct-dial number that extends a company's switchboard number
        (``+49 123 456-123`` for ``+49 123 456-0``) returns that company with
        ``match == "switchboard"``.  Archived contacts are left out.
        """
        e164 = normalize.phone(number, field="number")
        return search_mod.phone_matches(
            e164, self.store.find_by_phone(e164), self.store.find_switchboards(e164)
        )

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> CRM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<crmkit.CRM {self.url}>"

    def _contact_id(self, ref: ContactRef) -> str:
        if isinstance(ref, Contact):
            return ref.id
        if isinstance(ref, str):
            if _NUMBER_RE.match(ref.strip()):
                return self.store.get_contact_by_number(ref.strip().upper()).id
            return ref
        raise ValidationError.single(
            "contact", "value.type", expected="Contact, id or number", actual=type(ref).__name__
        )


class Contacts:
    """``crm.contacts``: add, read, change and archive persons and companies."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def validate(self, contact: Contact) -> list[Finding]:
        """Every finding about *contact*: its own warnings and those plugins add."""
        if not isinstance(contact, Contact):
            raise ValidationError.single(
                "contact", "value.type", expected="Person or Company", actual=type(contact).__name__
            )
        return self._crm.hooks.validate_contact(contact)

    def _check(self, contact: Contact) -> None:
        errors = [f for f in self.validate(contact) if f.severity == "error"]
        if errors:
            raise ValidationError(errors)

    def add(self, contact: C) -> C:
        """Store a new contact; returns it with its number (``C00001``) and version 1."""
        return self.add_many([contact])[0]

    def add_many(self, contacts: Iterable[C]) -> list[C]:
        """Store several new contacts in one transaction (all or none)."""
        now = self._crm.now()
        items = list(contacts)
        prepared: list[C] = []
        for i, contact in enumerate(items):
            try:
                self._check(contact)
            except ValidationError as exc:
                raise (exc.at(str(i)) if len(items) > 1 else exc) from None
            prepared.append(
                attrs.evolve(
                    contact, created_at=contact.created_at or now, updated_at=now, version=0
                )
            )
        with self._crm.transaction():
            stored = self._crm.store.add_contacts(prepared)
            for saved in stored:
                self._crm._emit("crmkit_on_contact_saved", contact=saved, created=True)
        return stored  # type: ignore[return-value]

    def get(self, ref: ContactRef) -> Contact:
        """The stored contact for an id, a number (``C00001``) or a contact."""
        return self._crm.store.get_contact(self._crm._contact_id(ref))

    def update(self, contact: C) -> C:
        """Store a changed contact (from :func:`attrs.evolve`).

        Its ``version`` must be the stored one, otherwise
        :class:`crmkit.ConflictError` is raised and nothing changes.
        """
        self._check(contact)
        changed = attrs.evolve(contact, updated_at=self._crm.now())
        with self._crm.transaction():
            stored = self._crm.store.update_contact(changed)
            self._crm._emit("crmkit_on_contact_saved", contact=stored, created=False)
        return stored  # type: ignore[return-value]

    def archive(self, ref: ContactRef, reason: str | None = None) -> Contact:
        """Mark a contact as archived (hidden from search and lists, kept in the store)."""
        with self._crm.transaction():
            target = ref if isinstance(ref, Contact) else self.get(ref)
            return self.update(
                attrs.evolve(target, archived_at=self._crm.now(), archive_reason=reason)
            )

    def unarchive(self, ref: ContactRef) -> Contact:
        """Bring an archived contact back."""
        with self._crm.transaction():
            current = self.get(ref)
            return self.update(attrs.evolve(current, archived_at=None, archive_reason=None))

    def all(self, *, include_archived: bool = False) -> Iterator[Contact]:
        """Every contact by number (archived ones only when asked)."""
        return self._crm.store.iter_contacts(include_archived=include_archived)

    def count(self, *, include_archived: bool = False) -> int:
        """How many contacts there are."""
        return self._crm.store.count_contacts(include_archived=include_archived)


class Affiliations:
    """``crm.affiliations``: who works where, with which roles."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def link(
        self,
        person: ContactRef,
        company: ContactRef,
        *,
        position: str | None = None,
        department: str | None = None,
        roles: Iterable[str] | str = (),
        primary: bool = False,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
    ) -> Affiliation:
        """Link a person to a company; returns the stored :class:`~crmkit.Affiliation`."""
        with self._crm.transaction():
            p = self._crm.contacts.get(person)
            c = self._crm.contacts.get(company)
            now = self._crm.now()
            aff = attrs.evolve(
                link(
                    p,
                    c,
                    position=position,
                    department=department,
                    roles=roles,
                    primary=primary,
                    since=since,
                    until=until,
                ),
                created_at=now,
                updated_at=now,
            )
            stored = self._crm.store.add_affiliation(aff)
            self._crm._emit("crmkit_on_affiliation_saved", affiliation=stored, created=True)
        return stored

    def get(self, ref: AffiliationRef) -> Affiliation:
        """The stored affiliation."""
        return self._crm.store.get_affiliation(ref.id if isinstance(ref, Affiliation) else ref)

    def update(self, affiliation: Affiliation) -> Affiliation:
        """Store a changed affiliation; stale versions raise :class:`crmkit.ConflictError`."""
        changed = attrs.evolve(affiliation, updated_at=self._crm.now())
        with self._crm.transaction():
            stored = self._crm.store.update_affiliation(changed)
            self._crm._emit("crmkit_on_affiliation_saved", affiliation=stored, created=False)
        return stored

    def unlink(self, ref: AffiliationRef) -> None:
        """Remove an affiliation (to keep history, set ``until`` with :meth:`update` instead)."""
        with self._crm.transaction():
            current = self.get(ref)
            self._crm.store.delete_affiliation(current.id)
            self._crm._emit("crmkit_on_affiliation_deleted", affiliation=current)

    def of_company(self, company: ContactRef) -> list[Affiliation]:
        """The company's people, primary first."""
        contact = self._crm.contacts.get(company)
        if not isinstance(contact, Company):
            raise ValidationError.single(
                "company", "affiliation.kind", expected="company", actual=contact.kind
            )
        return self._crm.store.affiliations_of_company(contact.id)

    def of_person(self, person: ContactRef) -> list[Affiliation]:
        """The person's companies, primary first."""
        contact = self._crm.contacts.get(person)
        if not isinstance(contact, Person):
            raise ValidationError.single(
                "person", "affiliation.kind", expected="person", actual=contact.kind
            )
        return self._crm.store.affiliations_of_person(contact.id)

    def people(self, company: ContactRef) -> list[tuple[Affiliation, Person]]:
        """The company's affiliations with the persons behind them."""
        out: list[tuple[Affiliation, Person]] = []
        for aff in self.of_company(company):
            person = self._crm.store.get_contact(aff.person_id)
            if isinstance(person, Person):
                out.append((aff, person))
        return out


def known_schemes(pm: PluginManager) -> Mapping[str, str]:
    """Scheme → plugin name, for ``crmkit plugins``."""
    return {k: v[1] for k, v in Hooks(pm).store_factories().items()}


__all__ = ["CRM", "Affiliations", "Clock", "Contacts", "open", "utc_now"]
