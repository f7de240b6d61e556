"""The facade: :func:`open` joins a store, the domain, the plugins and the actor.

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

Every public method checks the actor's permission before it touches the
store (:mod:`crmkit.auth`).  Every write is one transaction and leaves an
audit record; plugins hear about it (``crmkit_on_*``) only after it
committed.  Time comes from the ``clock`` given to :func:`open` (UTC now by
default), never from the domain.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmkit import normalize
from crmkit import search as search_mod
from crmkit._guard import guarded
from crmkit.audit import AuditRecord, FieldChange, diff
from crmkit.auth import Actor, Authorizer, RowScope, as_actor
from crmkit.campaigns_api import Campaigns
from crmkit.cockpit import (
    Bounces,
    CheckReport,
    Leads,
    WorklistRequest,
    build_worklist,
    run_check,
)
from crmkit.consent_api import Consents
from crmkit.correspondence_api import Correspondence
from crmkit.dedup import DedupConfig
from crmkit.dedup_api import check as dedup_check
from crmkit.dedup_api import mark_distinct as dedup_mark
from crmkit.dedup_api import report as dedup_report
from crmkit.errors import Finding, PermissionDenied, StoreError, ValidationError
from crmkit.frames import ContactList, to_pandas
from crmkit.kpis_api import Kpis, RevenueApi
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.merge_api import MergeResult
from crmkit.merge_api import merge as merge_contacts
from crmkit.merge_api import unmerge as unmerge_contacts
from crmkit.messages import Lang
from crmkit.model import Affiliation, Company, Contact, Person, link
from crmkit.plugins import Hooks, PluginManager, make_plugin_manager
from crmkit.privacy_api import Privacy
from crmkit.rules import RulePolicy
from crmkit.search import PhoneMatch
from crmkit.segments_api import Segments
from crmkit.serialize import to_dict
from crmkit.store import KNOWN_DISTRIBUTIONS, Store
from crmkit.sync_api import Sync
from crmkit.worklist import Worklist

if TYPE_CHECKING:  # pragma: no cover - the importer is loaded when first used
    from crmkit.importing import CsvImportReport

Clock = Callable[[], dt.datetime]
ContactRef = Contact | str
AffiliationRef = Affiliation | str
C = TypeVar("C", bound=Contact)
R = TypeVar("R")
P = ParamSpec("P")
S = TypeVar("S")

_NUMBER_RE = re.compile(r"^[Cc]\d{5,}$")

#: Facade methods that need no permission (checked by the generic tests).
UNGUARDED: frozenset[str] = frozenset(
    {
        "transaction",
        "close",
        "as_actor",
        "now",
        "today",
        "zone",
        "rules",
        "url",
        "actor",
        "allowed",
        "require",
        "deny",
        "scope",
    }
)


def utc_now() -> dt.datetime:
    """The default clock: the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def open(
    url: str = "memory://",
    *,
    actor: Actor | str | None = None,
    policy: Authorizer | None = None,
    plugins: Iterable[object] = (),
    load_entry_points: bool = True,
    clock: Clock | None = None,
    timezone: str | dt.tzinfo = "Europe/Berlin",
    rules: RulePolicy | None = None,
    **options: Any,
) -> CRM:
    """Open a CRM on the store at *url* (``memory://``, ``sqlite:///crm.db`` …).

    :param actor: who is acting (:class:`crmkit.Actor`, or a plain id that
        gets the role ``staff``).  **Without an actor the CRM runs as one local
        administrator who may do everything** — right for a notebook, wrong for
        a multi-user application.
    :param policy: the :class:`crmkit.auth.Authorizer` deciding permissions;
        default: one registered through ``crmkit_register_authorizer``, else
        :func:`crmkit.auth.default_policy`.
    :param plugins: extra plugin objects (modules or instances with
        ``@crmkit.hookimpl`` functions) to register, e.g. in tests.
    :param load_entry_points: load installed plugins from the ``crmkit``
        entry-point group (default); ``False`` gives only built-ins and *plugins*.
    :param clock: a function returning the current aware datetime; defaults
        to UTC now.  Pass a fixed clock in tests.
    :param timezone: where the users are (an IANA name or a ``tzinfo``):
        plain dates given to the facade ("since 2026-11-01", "due by …") are
        days there, and :meth:`CRM.today` is that zone's date.
    :param rules: the :class:`crmkit.rules.RulePolicy` for :meth:`CRM.check`
        and :meth:`CRM.worklist` (severities, thresholds); default settings
        otherwise.
    :param options: passed to the store factory.

    An unknown scheme raises :class:`crmkit.StoreError` listing the known
    schemes and which distribution to install.
    """
    if not isinstance(url, str) or "://" not in url:
        raise StoreError(code="store.bad_url", url=url)
    who = as_actor(actor)
    scheme = url.split("://", 1)[0].lower()
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
    authorizer = policy if policy is not None else hooks.authorizer()
    factory, _plugin = factories[scheme]
    store = factory(url, options)
    zone = _zone(timezone)
    return CRM(
        store,
        pm=pm,
        clock=clock or utc_now,
        actor=who,
        authorizer=authorizer,
        zone=zone,
        rules=rules or RulePolicy(),
    )


def _zone(value: str | dt.tzinfo) -> dt.tzinfo:
    if isinstance(value, dt.tzinfo):
        return value
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValidationError.single(
            "timezone", "value.invalid", value=value, reason="not an IANA time zone"
        ) from None


class _Session:
    """State shared by a CRM and its :meth:`CRM.as_actor` views: one transaction at a time."""

    def __init__(self) -> None:
        self.depth = 0
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.denials: list[AuditRecord] = []
        #: Who the writes come from: ``"user"`` or ``"sync:<provider>"`` (see ``crm.sync``).
        self.origin = "user"


class CRM:
    """The application facade.  Get one from :func:`crmkit.open`.

    Sub-APIs: :attr:`contacts` (:class:`Contacts`), :attr:`affiliations`
    (:class:`Affiliations`), :attr:`correspondence`
    (:class:`crmkit.correspondence_api.Correspondence`) and :attr:`audit`
    (:class:`Audit`).  Use it as a
    context manager to close the store.
    """

    def __init__(
        self,
        store: Store,
        *,
        pm: PluginManager,
        clock: Clock,
        actor: Actor,
        authorizer: Authorizer,
        zone: dt.tzinfo = dt.UTC,
        rules: RulePolicy | None = None,
        _session: _Session | None = None,
    ) -> None:
        self.store = store
        self.pm = pm
        self.hooks = Hooks(pm)
        self.clock = clock
        #: The users' time zone (see :func:`open`).
        self.zone = zone
        #: The rule settings of :meth:`check` and :meth:`worklist`.
        self.rules = rules or RulePolicy()
        self.authorizer = authorizer
        self._actor = actor
        self._session = _session or _Session()
        self.contacts = Contacts(self)
        self.affiliations = Affiliations(self)
        self.audit = Audit(self)
        self.correspondence = Correspondence(self)
        self.leads = Leads(self)
        self.bounces = Bounces(self)
        self.consents = Consents(self)
        self.privacy = Privacy(self)
        self.segments = Segments(self)
        self.campaigns = Campaigns(self)
        self.revenue = RevenueApi(self)
        self.kpis = Kpis(self)
        self.sync = Sync(self)

    # -- identity and permissions ----------------------------------------------
    @property
    def actor(self) -> Actor:
        """Who this facade acts as."""
        return self._actor

    def as_actor(self, actor: Actor | str) -> CRM:
        """A facade on the same store and transaction that acts as *actor*."""
        return CRM(
            self.store,
            pm=self.pm,
            clock=self.clock,
            zone=self.zone,
            rules=self.rules,
            actor=as_actor(actor),
            authorizer=self.authorizer,
            _session=self._session,
        )

    def allowed(self, action: str, resource: str) -> bool:
        """Whether the current actor may perform *action* on *resource* (no audit record)."""
        return self.authorizer.decide(self._actor, action, resource).allowed

    def require(self, action: str, resource: str, entity_id: str | None = None) -> None:
        """Raise :class:`crmkit.PermissionDenied` unless the actor may do this.

        A denial is written to the audit log, even when the surrounding
        transaction rolls back.
        """
        decision = self.authorizer.decide(self._actor, action, resource)
        if not decision.allowed:
            self.deny(action, resource, entity_id, decision.reason)

    def deny(self, action: str, resource: str, entity_id: str | None, reason: str) -> None:
        """Audit a refused attempt and raise :class:`crmkit.PermissionDenied`."""
        record = self._audit_record(action, resource, entity_id, outcome="denied", reason=reason)
        if self._session.depth:
            self._session.denials.append(record)
        else:
            self._write_denials([record])
        raise PermissionDenied(actor=self._actor.name, action=action, resource=resource)

    def _write_denials(self, records: list[AuditRecord]) -> None:
        with self.store.transaction():
            for record in records:
                self.store.append_audit(record)

    def scope(self, resource: str = "contact") -> RowScope | None:
        """The rows of *resource* the actor may see (``None``: all)."""
        return self.authorizer.row_scope(self._actor, resource)

    def _record(
        self,
        action: str,
        resource: str,
        entity_id: str | None,
        before: Any = None,
        after: Any = None,
        reason: str = "",
    ) -> None:
        changes = diff(
            to_dict(before) if before is not None else None,
            to_dict(after) if after is not None else None,
        )
        if not reason and self._session.origin != "user":
            reason = self._session.origin
        self.store.append_audit(
            self._audit_record(action, resource, entity_id, reason=reason, changes=changes)
        )

    def _audit_record(
        self,
        action: str,
        resource: str,
        entity_id: str | None,
        *,
        outcome: str = "ok",
        reason: str = "",
        changes: tuple[FieldChange, ...] = (),
    ) -> AuditRecord:
        return AuditRecord(
            at=self.now(),
            actor_id=self._actor.id,
            actor_name=self._actor.name,
            action=action,
            resource=resource,
            entity_id=entity_id,
            outcome=outcome,
            reason=reason,
            changes=changes,
        )

    # -- time and transactions ----------------------------------------------------
    @property
    def url(self) -> str:
        """The store URL this CRM was opened on."""
        return self.store.url

    def today(self) -> dt.date:
        """Today's date in the users' time zone (:attr:`zone`)."""
        return self.now().astimezone(self.zone).date()

    def now(self) -> dt.datetime:
        """The current time from the clock, checked to be timezone-aware, in UTC."""
        value = self.clock()
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValidationError.single("clock", "datetime.naive")
        return value.astimezone(dt.UTC)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several facade calls into one all-or-nothing write.

        Plugins are notified of the changes only after the outermost block
        committed.  Denied attempts inside it are audited even if it rolls back.
        """
        session = self._session
        outer = session.depth == 0
        if outer:
            session.events = []
            session.denials = []
        session.depth += 1
        try:
            with self.store.transaction():
                yield
        except BaseException:
            if outer:
                session.events = []
            raise
        finally:
            session.depth -= 1
            if outer and session.denials:
                denials, session.denials = session.denials, []
                self._write_denials(denials)
        if outer:
            events, session.events = session.events, []
            for hook, kwargs in events:
                self.hooks.notify(hook, crm=self, **kwargs)

    def _emit(self, hook: str, **kwargs: Any) -> None:
        if hook == "crmkit_on_contact_saved":
            kwargs.setdefault("origin", self._session.origin)
        self._session.events.append((hook, kwargs))

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> CRM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<crmkit.CRM {self.url} as {self._actor.id}>"

    # -- reading with scope and field restrictions --------------------------------
    def _load(self, ref: ContactRef, *, follow: bool = True) -> Contact:
        """The stored contact behind *ref*, within the actor's rows, unredacted.

        A contact merged into another leads to the survivor (unless *follow*
        is false), so old ids and numbers keep working after a merge.
        """
        scope = self.scope("contact")
        if isinstance(ref, Contact):
            found = self.store.get_contact(ref.id, scope=scope)
        elif isinstance(ref, str):
            text = ref.strip()
            if _NUMBER_RE.match(text):
                found = self.store.get_contact_by_number(text.upper(), scope=scope)
            else:
                found = self.store.get_contact(text, scope=scope)
        else:
            raise ValidationError.single(
                "contact", "value.type", expected="Contact, id or number",
                actual=type(ref).__name__,
            )  # fmt: skip
        hops = 0
        while follow and found.merged_into is not None and hops < 20:
            found = self.store.get_contact(found.merged_into, scope=scope)
            hops += 1
        return found

    def _show(self, contact: C) -> C:
        """*contact* as the actor may see it: hidden fields withheld."""
        hidden = self.authorizer.hidden_fields(self._actor, "contact")
        fields = {f for f in hidden if hasattr(contact, f)}
        if not fields:
            return contact
        blank = {f: _empty(contact, f) for f in fields}
        return attrs.evolve(contact, redacted=frozenset(fields), **blank)

    # -- search and caller-id ------------------------------------------------------
    @guarded("read", "contact")
    def search(
        self,
        text: str = "",
        *,
        kind: str | None = None,
        relationships: Iterable[str] | str | None = None,
        tags: Iterable[str] | str | None = None,
        include_archived: bool = False,
        limit: int = 50,
    ) -> ContactList:
        """Ranked contacts for a name, number, e-mail, domain or phone number.

        ``crm.search("Müller")``, ``crm.search("@muster.de")``,
        ``crm.search("C00001")``, ``crm.search("0170 1234567")``,
        ``crm.search("", kind="company", relationships={"customer"},
        tags={"Branche-IT"})``.  Any text is safe to pass.  The rules are in
        :mod:`crmkit.search`; only contacts the actor may read are returned,
        as a :class:`crmkit.frames.ContactList` (a list that shows as a table
        in Jupyter and has ``.to_pandas()``).
        """
        query = search_mod.analyze(
            text,
            kind=kind,
            relationships=relationships,
            tags=tags,
            include_archived=include_archived,
            limit=limit,
        )
        return ContactList(self._show(c) for c in self.store.search(query, scope=self.scope()))

    @guarded("read", "contact")
    def lookup_phone(self, number: str) -> list[PhoneMatch]:
        """Caller-id: the contacts behind a phone number in any format.

        Exact E.164 matches come first.  When no person has the number, a
        direct-dial number that extends a company's switchboard number
        (``+49 123 456-123`` for ``+49 123 456-0``) returns that company with
        ``match == "switchboard"``.  Archived contacts are left out.
        """
        e164 = normalize.phone(number, field="number")
        scope = self.scope()
        matches = search_mod.phone_matches(
            e164,
            self.store.find_by_phone(e164, scope=scope),
            self.store.find_switchboards(e164, scope=scope),
        )
        return [attrs.evolve(m, contact=self._show(m.contact)) for m in matches]

    # -- importing ------------------------------------------------------------------------
    @guarded("create", "contact")
    def import_csv(
        self,
        source: Any,
        mapping: Mapping[str, str] | None = None,
        *,
        dry_run: bool = False,
        on_duplicate: str = "skip",
        batch_size: int = 1000,
        progress: bool | None = None,
    ) -> Any:
        """Import contacts from a CSV or xlsx file (or binary stream) as German Excel writes it.

        Encoding, delimiter and columns are detected (German and English
        headers; *mapping* overrides); one row may create a company, a person
        and their affiliation.  ``dry_run=True`` checks every row and writes
        nothing; otherwise valid rows are imported in batches of *batch_size*
        (one transaction each) and the rest reported.  Re-running a file adds
        nothing (external ids, else the duplicate check; *on_duplicate*
        ``"skip"``, ``"flag"`` or ``"merge"`` into the stored contact).  A
        progress bar shows in a terminal or a notebook (*progress*
        ``True``/``False`` forces it on or off).  Returns a
        :class:`crmkit.importing.CsvImportReport`.  Needs the right to create
        contacts (a dry run too: it is the first half of an import).
        """
        from crmkit.importing import import_csv

        return import_csv(self, source, mapping, dry_run=dry_run, on_duplicate=on_duplicate,
                          batch_size=batch_size, progress=progress)  # fmt: skip

    @guarded("create", "contact")
    def import_json(self, source: Any) -> Any:
        """Read a crmkit JSON export (:meth:`export` with ``format="json"``), all or nothing.

        Contacts keep their ids and numbers, the history and the consent
        ledger come along; a bad record or a taken id raises a crmkit error
        naming the line and changes nothing.  Returns a
        :class:`crmkit.jsonio.JsonImportReport`.
        """
        from crmkit.jsonio import import_json

        return import_json(self, source)

    @guarded("create", "contact")
    def import_vcard(self, source: Any) -> Any:
        """Read vCards (3.0 or 4.0) from a file or text stream; needs the ``vcard`` extra.

        Persons are linked to the company of their ``ORG``; a card already
        stored (same UID) is skipped; unreadable or invalid cards are
        reported.  Returns a :class:`crmkit.vcard.VcardImportReport`.
        """
        from crmkit.vcard import import_vcard

        return import_vcard(self, source)

    @guarded("export", "contact")
    def export(
        self,
        target: Any,
        format: str = "csv",  # the public name from the design
        *,
        query: str | None = None,
        include_archived: bool = False,
    ) -> int:
        """Export contacts to a path or text stream as ``"csv"``, ``"json"`` or ``"vcard"``.

        CSV is ``;``-separated UTF-8 with a byte-order mark for German Excel,
        with every cell safe from formula injection; JSON is lossless (the
        history, consent ledger and requests too); vCard 4.0 needs the
        ``vcard`` extra.  *query* narrows the export to what
        :meth:`search` finds for it.  Returns the number of records written.
        See :func:`crmkit.exporting.export`.
        """
        from crmkit.exporting import export

        return export(self, target, format, query=query, include_archived=include_archived)

    @guarded("create", "contact")
    def import_pandas(
        self,
        frame: Any,
        mapping: Mapping[str, str] | None = None,
        *,
        dry_run: bool = False,
        on_duplicate: str = "skip",
        batch_size: int = 1000,
    ) -> CsvImportReport:
        """Import contacts from a :class:`pandas.DataFrame`, exactly as :meth:`import_csv` would.

        The frame's column names are the headers (detected, *mapping*
        overrides); each row is one CSV row (row 2 is the frame's first
        row); empty cells, ``None`` and ``NaN`` are empty.  *dry_run*,
        *on_duplicate* and *batch_size* as for :meth:`import_csv`.  Returns
        a :class:`crmkit.importing.CsvImportReport` (``encoding`` and
        ``delimiter`` empty).  Needs the ``pandas`` extra.
        """
        from crmkit.frames import frame_records
        from crmkit.importing import import_rows

        header, records = frame_records(frame)
        return import_rows(self, header, records, mapping, dry_run=dry_run,
                           on_duplicate=on_duplicate, batch_size=batch_size)  # fmt: skip

    # -- merging duplicates ------------------------------------------------------------
    @guarded("merge", "contact")
    def merge(
        self,
        survivor: ContactRef,
        *others: ContactRef,
        choose: Mapping[str, ContactRef] | None = None,
        dry_run: bool = False,
    ) -> MergeResult:
        """Merge *others* into *survivor* in one transaction; nothing is lost.

        Values survive by the rules of :mod:`crmkit.merge` (lists joined,
        non-empty wins, newer wins, ``choose={"phones": other}`` overrides);
        affiliations and correspondence move to the survivor; the others are
        archived with ``merged_into``, so their ids and numbers lead to the
        survivor.  With ``dry_run=True`` nothing is written and the result
        shows what would happen.  :meth:`unmerge` undoes it.
        """
        refs = {k: (v.id if isinstance(v, Contact) else v) for k, v in (choose or {}).items()}
        return merge_contacts(self, survivor, others, choose=refs, dry_run=dry_run)

    @guarded("merge", "contact")
    def unmerge(self, merge: MergeRecord | ContactRef) -> Contact:
        """Undo a merge (a record or its id, or the survivor: its latest merge).

        The merged contacts come back with their links and correspondence;
        the survivor gets back the values the merge gave it, except those
        changed since.  Returns the survivor.
        """
        return unmerge_contacts(self, merge)

    @guarded("read", "contact")
    def find_duplicates(
        self, candidate: Contact | None = None, *, config: DedupConfig | None = None
    ) -> Any:
        """Duplicates: of one contact, or among all the contacts the actor may read.

        ``crm.find_duplicates(Person(...))`` — "search before you create" —
        returns the likely duplicates of a new (or stored) contact as a tuple
        of :class:`crmkit.dedup.DuplicatePair` (best first), checking only the
        candidates the store's indexes return for its e-mail addresses,
        phones, names and domain.  Without a candidate it runs the monthly
        check over the whole store and returns a
        :class:`crmkit.dedup.DuplicateReport` (pairs, clusters, capped keys).
        Pairs marked with :meth:`mark_distinct` are not proposed again until
        one of them changes in a matching field.
        """
        if candidate is not None:
            return dedup_check(self, candidate, config)
        return dedup_report(self, config)

    @guarded("update", "contact")
    def mark_distinct(self, left: ContactRef, right: ContactRef) -> DedupDecision:
        """Record that two contacts are not duplicates; the pair is not proposed again."""
        return dedup_mark(self, self._load(left), self._load(right))

    @guarded("read", "contact")
    def merges(self, survivor: ContactRef) -> list[MergeRecord]:
        """The merges into *survivor*, oldest first: what came from where, and when."""
        return self.store.merges_of(self._load(survivor, follow=False).id)

    # -- data quality and the worklist ---------------------------------------------
    @guarded("read", "contact")
    def check(self, *, policy: RulePolicy | None = None) -> CheckReport:
        """Every quality and role finding about the contacts the actor may read.

        The rules are in :mod:`crmkit.rules` (plus what plugins add through
        ``crmkit_validate_contact``); ``report.score`` is the share of
        contacts without an error finding.  Reads every contact: at a million
        contacts use :meth:`worklist` for the daily work.
        """
        return run_check(self, policy or self.rules)

    @guarded("read", "contact")
    def worklist(
        self,
        today: dt.date | None = None,
        *,
        owner: str | None = None,
        policy: RulePolicy | None = None,
    ) -> Worklist:
        """The work queue as of *today* (default: :meth:`today`), most urgent first.

        Items come from every worklist source (leads, customers, roles, data
        gaps, bounces, follow-ups, the monthly quality sample, and what
        plugins register); *owner* keeps the items of one actor (the owner of
        the contact, or the assignee of a follow-up).
        """
        if today is None:
            today = self.today()
        if not isinstance(today, dt.date) or isinstance(today, dt.datetime):
            raise ValidationError.single(
                "today", "value.type", expected="date", actual=type(today).__name__
            )
        # Periods are counted from the end of *today*, so a given day always gives the same list.
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)
        request = WorklistRequest(
            today=today, now=end.astimezone(dt.UTC), policy=policy or self.rules, owner=owner
        )
        return build_worklist(self, request)


def _empty(contact: Contact, field: str) -> Any:
    attribute = getattr(attrs.fields(type(contact)), field)
    default = attribute.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


class Contacts:
    """``crm.contacts``: add, read, change and archive persons and companies."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @guarded("read", "contact")
    def validate(self, contact: Contact) -> list[Finding]:
        """Every finding about *contact*: its own warnings and those plugins add."""
        if not isinstance(contact, Contact):
            raise ValidationError.single(
                "contact", "value.type", expected="Person or Company", actual=type(contact).__name__
            )
        return self._crm.hooks.validate_contact(contact)

    def _check(self, contact: Contact) -> None:
        if not isinstance(contact, Contact):
            raise ValidationError.single(
                "contact", "value.type", expected="Person or Company", actual=type(contact).__name__
            )
        errors = [f for f in self._crm.hooks.validate_contact(contact) if f.severity == "error"]
        if errors:
            raise ValidationError(errors)

    @guarded("create", "contact")
    def add(self, contact: C) -> C:
        """Store a new contact; returns it with its number (``C00001``) and version 1.

        An actor limited to its own contacts becomes the owner of a contact
        without one, and may not create contacts for other owners.
        """
        return self._add([contact])[0]

    @guarded("create", "contact")
    def add_many(self, contacts: Iterable[C]) -> list[C]:
        """Store several new contacts in one transaction (all or none)."""
        return self._add(list(contacts))

    def _add(self, items: list[C]) -> list[C]:
        crm = self._crm
        now = crm.now()
        scope = crm.scope()
        prepared: list[C] = []
        for i, contact in enumerate(items):
            try:
                self._check(contact)
            except ValidationError as exc:
                raise (exc.at(str(i)) if len(items) > 1 else exc) from None
            owner = contact.owner
            if scope is not None:
                if owner is None:
                    owner = scope.owner
                elif owner != scope.owner:
                    crm.deny("create", "contact", contact.id, "owned by another actor")
            prepared.append(
                attrs.evolve(
                    contact,
                    owner=owner,
                    created_at=contact.created_at or now,
                    updated_at=now,
                    version=0,
                    redacted=frozenset(),
                )
            )
        with crm.transaction():
            stored = crm.store.add_contacts(prepared)
            for saved in stored:
                crm._record("create", "contact", saved.id, None, saved)
                crm._emit("crmkit_on_contact_saved", contact=saved, created=True)
        return [crm._show(s) for s in stored]  # type: ignore[misc]

    @guarded("read", "contact")
    def get(self, ref: ContactRef) -> Contact:
        """The stored contact for an id, a number (``C00001``) or a contact.

        Contacts outside the actor's rows are reported as not found; fields
        it may not read are withheld (see :attr:`crmkit.Contact.redacted`).
        """
        return self._crm._show(self._crm._load(ref))

    @guarded("update", "contact")
    def update(self, contact: C) -> C:
        """Store a changed contact (from :func:`attrs.evolve`).

        Its ``version`` must be the stored one, otherwise
        :class:`crmkit.ConflictError` is raised and nothing changes.  Fields
        hidden from the actor keep their stored values.
        """
        crm = self._crm
        self._check(contact)
        with crm.transaction():
            current = crm._load(contact)
            hidden = crm.authorizer.hidden_fields(crm.actor, "contact")
            keep = {f: getattr(current, f) for f in hidden | contact.redacted
                    if hasattr(current, f)}  # fmt: skip
            scope = crm.scope()
            if scope is not None and contact.owner != current.owner:
                crm.deny("update", "contact", contact.id, "may not change the owner")
            changed = attrs.evolve(contact, updated_at=crm.now(), redacted=frozenset(), **keep)
            stored = crm.store.update_contact(changed)
            crm._record("update", "contact", stored.id, current, stored)
            crm._emit("crmkit_on_contact_saved", contact=stored, created=False)
        return crm._show(stored)  # type: ignore[return-value]

    @guarded("archive", "contact")
    def archive(self, ref: ContactRef, reason: str | None = None) -> Contact:
        """Mark a contact as archived (hidden from search and lists, kept in the store)."""
        return self._set_archived(ref, self._crm.now(), reason)

    @guarded("archive", "contact")
    def unarchive(self, ref: ContactRef) -> Contact:
        """Bring an archived contact back."""
        return self._set_archived(ref, None, None)

    def _set_archived(self, ref: ContactRef, at: dt.datetime | None, reason: str | None) -> Contact:
        crm = self._crm
        with crm.transaction():
            current = crm._load(ref)
            if isinstance(ref, Contact) and ref.version != current.version:
                current = attrs.evolve(current, version=ref.version)  # the store will refuse
            changed = attrs.evolve(
                current, archived_at=at, archive_reason=reason, updated_at=crm.now()
            )
            stored = crm.store.update_contact(changed)
            crm._record("archive" if at else "unarchive", "contact", stored.id, current, stored)
            crm._emit("crmkit_on_contact_saved", contact=stored, created=False)
        return crm._show(stored)

    @guarded("read", "contact")
    def all(self, *, include_archived: bool = False) -> Iterator[Contact]:
        """Every contact the actor may read, by number (archived ones only when asked)."""
        crm = self._crm
        for contact in crm.store.iter_contacts(
            include_archived=include_archived, scope=crm.scope()
        ):
            yield crm._show(contact)

    @guarded("read", "contact")
    def to_pandas(self, *, include_archived: bool = False, lang: Lang = "en") -> Any:
        """Every contact the actor may read as a :class:`pandas.DataFrame`, one row each.

        Columns as :func:`crmkit.frames.contact_row` (number, kind, name,
        e-mail, phone, address, relationships, tags …).  Needs the
        ``pandas`` extra.
        """
        return to_pandas(self.all(include_archived=include_archived), lang)

    @guarded("read", "contact")
    def count(self, *, include_archived: bool = False) -> int:
        """How many contacts the actor may read."""
        return self._crm.store.count_contacts(
            include_archived=include_archived, scope=self._crm.scope()
        )


class Affiliations:
    """``crm.affiliations``: who works where, with which roles."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @guarded("create", "affiliation")
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
        crm = self._crm
        with crm.transaction():
            p = crm._load(person)
            c = crm._load(company)
            now = crm.now()
            aff = attrs.evolve(
                link(p, c, position=position, department=department, roles=roles,
                     primary=primary, since=since, until=until),
                created_at=now,
                updated_at=now,
            )  # fmt: skip
            stored = crm.store.add_affiliation(aff)
            crm._record("create", "affiliation", stored.id, None, stored)
            crm._emit("crmkit_on_affiliation_saved", affiliation=stored, created=True)
        return stored

    @guarded("read", "affiliation")
    def get(self, ref: AffiliationRef) -> Affiliation:
        """The stored affiliation (within the actor's rows)."""
        key = ref.id if isinstance(ref, Affiliation) else ref
        return self._crm.store.get_affiliation(key, scope=self._crm.scope("affiliation"))

    @guarded("update", "affiliation")
    def update(self, affiliation: Affiliation) -> Affiliation:
        """Store a changed affiliation; stale versions raise :class:`crmkit.ConflictError`."""
        crm = self._crm
        with crm.transaction():
            current = crm.store.get_affiliation(affiliation.id, scope=crm.scope("affiliation"))
            changed = attrs.evolve(affiliation, updated_at=crm.now())
            stored = crm.store.update_affiliation(changed)
            crm._record("update", "affiliation", stored.id, current, stored)
            crm._emit("crmkit_on_affiliation_saved", affiliation=stored, created=False)
        return stored

    @guarded("archive", "affiliation")
    def unlink(self, ref: AffiliationRef) -> None:
        """Remove an affiliation (to keep history, set ``until`` with :meth:`update` instead)."""
        crm = self._crm
        with crm.transaction():
            key = ref.id if isinstance(ref, Affiliation) else ref
            current = crm.store.get_affiliation(key, scope=crm.scope("affiliation"))
            crm.store.delete_affiliation(current.id)
            crm._record("delete", "affiliation", current.id, current, None)
            crm._emit("crmkit_on_affiliation_deleted", affiliation=current)

    @guarded("read", "affiliation")
    def of_company(self, company: ContactRef) -> list[Affiliation]:
        """The company's people, primary first."""
        contact = self._crm._load(company)
        if not isinstance(contact, Company):
            raise ValidationError.single(
                "company", "affiliation.kind", expected="company", actual=contact.kind
            )
        return self._crm.store.affiliations_of_company(
            contact.id, scope=self._crm.scope("affiliation")
        )

    @guarded("read", "affiliation")
    def of_person(self, person: ContactRef) -> list[Affiliation]:
        """The person's companies, primary first."""
        contact = self._crm._load(person)
        if not isinstance(contact, Person):
            raise ValidationError.single(
                "person", "affiliation.kind", expected="person", actual=contact.kind
            )
        return self._crm.store.affiliations_of_person(
            contact.id, scope=self._crm.scope("affiliation")
        )

    @guarded("read", "affiliation")
    def people(self, company: ContactRef) -> list[tuple[Affiliation, Person]]:
        """The company's affiliations with the persons behind them (persons the actor may read)."""
        crm = self._crm
        crm.require("read", "contact")
        out: list[tuple[Affiliation, Person]] = []
        scope = crm.scope()
        for aff in self.of_company(company):
            try:
                person = crm.store.get_contact(aff.person_id, scope=scope)
            except LookupError:
                continue
            if isinstance(person, Person):
                out.append((aff, crm._show(person)))
        return out


class Audit:
    """``crm.audit``: read the append-only audit log."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @guarded("read", "audit")
    def history(self, ref: Contact | Affiliation | str | None = None) -> list[AuditRecord]:
        """Audit records, oldest first: all of them, or those of one entity (id or number)."""
        crm = self._crm
        if ref is None:
            return list(crm.store.iter_audit())
        key: str
        if isinstance(ref, (Contact, Affiliation)):
            key = ref.id
        elif _NUMBER_RE.match(ref.strip()):
            key = crm.store.get_contact_by_number(ref.strip().upper()).id
        else:
            key = ref
        return list(crm.store.iter_audit(entity_id=key))

    @guarded("read", "audit")
    def by_actor(self, actor_id: str) -> list[AuditRecord]:
        """What one actor did (and tried), oldest first."""
        return list(self._crm.store.iter_audit(actor_id=actor_id))


def known_schemes(pm: PluginManager) -> Mapping[str, str]:
    """Scheme → plugin name, for ``crmkit plugins``."""
    return {k: v[1] for k, v in Hooks(pm).store_factories().items()}


__all__ = [
    "CRM",
    "UNGUARDED",
    "Affiliations",
    "Audit",
    "Clock",
    "Contacts",
    "guarded",
    "open",
    "utc_now",
]
