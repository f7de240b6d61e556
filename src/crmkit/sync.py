"""Contact sync, provider-neutral: field ownership, the three-way merge, links.

A sync provider (Microsoft 365, CardDAV …) only translates between its wire
format and the *neutral values* of this module: a mapping of field name →
value (a string, a tuple of strings or ``None``).  The core decides what
syncs and who wins:

* :class:`FieldTable` says per field which way it flows (``crm_to_remote``,
  ``remote_to_crm``, ``both``, ``never``) and, for ``both``, what happens when
  both sides changed it since the last sync (``crm_wins``, ``remote_wins``,
  ``newest_wins``, ``ask``).  :data:`DEFAULT_FIELD_TABLE` follows the users'
  practice: contact data syncs both ways and a true conflict goes to the
  remote side; CRM data (relationships, roles, consent, notes, lead data)
  belongs to the CRM; private Outlook fields never sync.
* :func:`merge` is the per-field three-way merge of the CRM values and the
  remote values against the snapshot stored at the last sync.
* :class:`SyncLink` is the link of one contact to one remote copy, with the
  snapshot, the change key and the sync status the worklist shows.

Everything here is pure: no I/O, no clock (times are parameters).

>>> table = DEFAULT_FIELD_TABLE
>>> base = {"surname": "Muster", "job_title": "CEO"}
>>> crm = {"surname": "Muster", "job_title": "CTO"}
>>> remote = {"surname": "Mustermann", "job_title": "CEO"}
>>> result = merge(base, crm, remote, table)
>>> dict(result.to_crm), dict(result.to_remote)
({'surname': 'Mustermann'}, {'job_title': 'CTO'})
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal, Protocol, runtime_checkable

import attrs

from crmkit.errors import ValidationError
from crmkit.model import Address, Company, Contact, Person, PhoneNumber, _convert

#: A neutral field value: text, a tuple of texts (e-mails, phones, an address) or nothing.
SyncValue = str | tuple[str, ...] | None
#: Neutral values of one side: field name → value.
SyncValues = Mapping[str, SyncValue]

Direction = Literal["crm_to_remote", "remote_to_crm", "both", "never"]
DIRECTIONS: Final[tuple[str, ...]] = ("crm_to_remote", "remote_to_crm", "both", "never")
ConflictPolicy = Literal["crm_wins", "remote_wins", "newest_wins", "ask"]
CONFLICT_POLICIES: Final[tuple[str, ...]] = ("crm_wins", "remote_wins", "newest_wins", "ask")
Side = Literal["crm", "remote"]

LinkStatus = Literal["ok", "conflict", "error", "skipped_no_email", "unlinked", "erased"]
LINK_STATUSES: Final[tuple[str, ...]] = (
    "ok",
    "conflict",
    "error",
    "skipped_no_email",
    "unlinked",
    "erased",
)

#: The neutral fields of contact data (both ways by default).
CONTACT_FIELDS: Final[tuple[str, ...]] = (
    "given_name",
    "surname",
    "title",
    "company_name",
    "department",
    "job_title",
    "emails",
    "business_phones",
    "mobile_phone",
    "business_address",
)
#: CRM data: owned by the CRM, never overwritten by sync.
CRM_FIELDS: Final[tuple[str, ...]] = (
    "categories",
    "relationships",
    "roles",
    "consent",
    "notes",
    "lead",
)
#: Private fields of the remote address book: never synced in either direction.
PRIVATE_FIELDS: Final[tuple[str, ...]] = (
    "personal_notes",
    "home_address",
    "home_phones",
    "birthday",
    "spouse_name",
)


def _direction(value: object) -> str:
    if value not in DIRECTIONS:
        raise ValidationError.single("direction", "value.choice", value=value, choices=DIRECTIONS)
    return str(value)


def _policy(value: object) -> str:
    if value not in CONFLICT_POLICIES:
        raise ValidationError.single(
            "policy", "value.choice", value=value, choices=CONFLICT_POLICIES
        )
    return str(value)


def _field_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single("field", "value.required")
    return value.strip()


@attrs.frozen(kw_only=True)
class FieldRule:
    """How one field syncs: its direction and (for ``both``) its conflict policy."""

    field: str = attrs.field(converter=_field_name)
    direction: Direction = attrs.field(converter=_direction)
    policy: ConflictPolicy = attrs.field(default="ask", converter=_policy)


def _rules(value: object) -> tuple[FieldRule, ...]:
    if isinstance(value, Mapping):
        items: Iterable[object] = [
            FieldRule(field=k, direction=v[0], policy=v[1])
            if isinstance(v, tuple)
            else FieldRule(field=k, direction=v)
            for k, v in value.items()
        ]
    elif isinstance(value, Iterable) and not isinstance(value, str):
        items = value
    else:
        raise ValidationError.single(
            "rules", "value.type", expected="FieldRule items", actual=type(value).__name__
        )
    out: dict[str, FieldRule] = {}
    for item in items:
        if not isinstance(item, FieldRule):
            raise ValidationError.single(
                "rules", "value.type", expected="FieldRule", actual=type(item).__name__
            )
        if item.field in out:
            raise ValidationError.single(
                "rules", "value.invalid", value=item.field, reason="the field is listed twice"
            )
        out[item.field] = item
    return tuple(out.values())


@attrs.frozen(kw_only=True)
class FieldTable:
    """The field-ownership table: one :class:`FieldRule` per neutral field.

    A field the table does not name never syncs.  Build one from rules or
    from a mapping ``{"job_title": ("both", "crm_wins"), "birthday": "never"}``;
    change it with :meth:`with_rules`.
    """

    rules: tuple[FieldRule, ...] = attrs.field(converter=_rules)

    def rule(self, field: str) -> FieldRule:
        """The rule for *field* (``never`` for a field the table does not name)."""
        for rule in self.rules:
            if rule.field == field:
                return rule
        return FieldRule(field=field, direction="never")

    def with_rules(
        self, changes: Mapping[str, Direction | tuple[Direction, ConflictPolicy]]
    ) -> FieldTable:
        """A copy with the rules of the fields in *changes* replaced (or added)."""
        new = {r.field: r for r in self.rules}
        for rule in _rules(changes):
            new[rule.field] = rule
        return FieldTable(rules=tuple(new.values()))

    @property
    def synced(self) -> tuple[str, ...]:
        """The fields that flow in at least one direction."""
        return tuple(r.field for r in self.rules if r.direction != "never")

    def to_remote(self) -> frozenset[str]:
        """The fields the CRM may write to the remote side."""
        return frozenset(r.field for r in self.rules if r.direction in ("crm_to_remote", "both"))

    def to_crm(self) -> frozenset[str]:
        """The fields the remote side may write to the CRM."""
        return frozenset(r.field for r in self.rules if r.direction in ("remote_to_crm", "both"))


#: The default table: contact data both ways (remote wins a true conflict),
#: CRM data owned by the CRM (tags become categories), private fields never.
DEFAULT_FIELD_TABLE: Final = FieldTable(
    rules=(
        *(FieldRule(field=f, direction="both", policy="remote_wins") for f in CONTACT_FIELDS),
        FieldRule(field="categories", direction="crm_to_remote"),
        *(FieldRule(field=f, direction="never") for f in CRM_FIELDS if f != "categories"),
        *(FieldRule(field=f, direction="never") for f in PRIVATE_FIELDS),
    )
)


@attrs.frozen(kw_only=True)
class FieldConflict:
    """A field changed on both sides since the last sync.

    ``resolved`` names the side whose value was taken by the field's policy,
    or is ``None`` when the policy is ``ask`` (the decision waits on the
    worklist) or ``newest_wins`` had no usable times.
    """

    field: str
    base: SyncValue
    crm: SyncValue
    remote: SyncValue
    policy: ConflictPolicy
    resolved: Side | None = None


@attrs.frozen(kw_only=True)
class MergeResult:
    """What a three-way merge decided.

    ``to_crm`` and ``to_remote`` are the field values to write on each side;
    ``snapshot`` the values both sides agree on afterwards (the new base; a
    pending conflict keeps its old base value); ``conflicts`` every field
    changed on both sides; ``overridden`` the CRM-owned fields the remote
    side had changed and the push will set back.
    """

    to_crm: Mapping[str, SyncValue] = attrs.field(factory=dict)
    to_remote: Mapping[str, SyncValue] = attrs.field(factory=dict)
    snapshot: Mapping[str, SyncValue] = attrs.field(factory=dict)
    conflicts: tuple[FieldConflict, ...] = ()
    overridden: tuple[str, ...] = ()

    @property
    def pending(self) -> tuple[FieldConflict, ...]:
        """Conflicts that wait for a decision."""
        return tuple(c for c in self.conflicts if c.resolved is None)

    @property
    def changed(self) -> bool:
        """Whether either side needs a write."""
        return bool(self.to_crm or self.to_remote)


def merge(
    base: SyncValues | None,
    crm: SyncValues,
    remote: SyncValues,
    table: FieldTable = DEFAULT_FIELD_TABLE,
    *,
    crm_changed_at: dt.datetime | None = None,
    remote_changed_at: dt.datetime | None = None,
    decisions: Mapping[str, Side] | None = None,
) -> MergeResult:
    """The per-field three-way merge of *crm* and *remote* against *base*.

    :param base: the snapshot of the last sync (``None``: never synced; every
        field then counts as empty before).
    :param crm: the CRM's neutral values now.
    :param remote: the remote side's neutral values now.
    :param table: who owns which field.
    :param crm_changed_at: when the CRM contact last changed (for ``newest_wins``).
    :param remote_changed_at: when the remote copy last changed, by the
        server's clock (for ``newest_wins``).
    :param decisions: a user's decision per conflicting field (``"crm"`` or
        ``"remote"``), overriding the policy.

    A field changed on one side only takes that side's value; a field changed
    on both sides to different values follows its policy (``ask`` leaves both
    sides as they are and reports the conflict).  Fields the table marks
    ``never`` are neither read nor written; a field owned by one side is
    always set to that side's value.
    """
    base = base or {}
    decisions = decisions or {}
    to_crm: dict[str, SyncValue] = {}
    to_remote: dict[str, SyncValue] = {}
    snapshot: dict[str, SyncValue] = {}
    conflicts: list[FieldConflict] = []
    overridden: list[str] = []
    for rule in table.rules:
        f = rule.field
        if rule.direction == "never":
            continue
        b, c, r = base.get(f), crm.get(f), remote.get(f)
        if rule.direction == "crm_to_remote":
            if r != c:
                to_remote[f] = c
                if r != b:
                    overridden.append(f)
            snapshot[f] = c
            continue
        if rule.direction == "remote_to_crm":
            if c != r:
                to_crm[f] = r
            snapshot[f] = r
            continue
        if c == r:
            snapshot[f] = c
        elif c == b:
            to_crm[f] = r
            snapshot[f] = r
        elif r == b:
            to_remote[f] = c
            snapshot[f] = c
        else:
            side = decisions.get(f) or _resolve(rule.policy, crm_changed_at, remote_changed_at)
            conflicts.append(
                FieldConflict(field=f, base=b, crm=c, remote=r, policy=rule.policy, resolved=side)
            )
            if side == "crm":
                to_remote[f] = c
                snapshot[f] = c
            elif side == "remote":
                to_crm[f] = r
                snapshot[f] = r
            elif f in base:
                snapshot[f] = b
    return MergeResult(
        to_crm=to_crm,
        to_remote=to_remote,
        snapshot=snapshot,
        conflicts=tuple(conflicts),
        overridden=tuple(overridden),
    )


def _resolve(policy: str, crm_at: dt.datetime | None, remote_at: dt.datetime | None) -> Side | None:
    if policy == "crm_wins":
        return "crm"
    if policy == "remote_wins":
        return "remote"
    if policy == "newest_wins" and crm_at is not None and remote_at is not None:
        if crm_at > remote_at:
            return "crm"
        if remote_at > crm_at:
            return "remote"
    return None


def snapshot_hash(values: SyncValues) -> str:
    """A stable hash of neutral values (sha256 of canonical JSON), to spot unchanged items."""
    text = json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(values.items())},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def only_synced(
    values: SyncValues, table: FieldTable = DEFAULT_FIELD_TABLE
) -> dict[str, SyncValue]:
    """*values* without the fields the table never syncs (what may be stored or sent)."""
    synced = set(table.synced)
    return {k: v for k, v in values.items() if k in synced}


# ------------------------------------------------------------------ contacts ↔ values


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def contact_values(
    contact: Contact,
    *,
    company_name: str | None = None,
    department: str | None = None,
    job_title: str | None = None,
) -> dict[str, SyncValue]:
    """The neutral values of a CRM contact.

    A person's company, department and job title live on its primary
    affiliation; the caller passes them.  A company is a remote contact with
    its name as ``company_name`` and no personal names.
    """
    business = next((a for a in contact.addresses if a.label == "business"), None)
    mobile = next((p for p in contact.phones if p.label == "mobile"), None)
    values: dict[str, SyncValue] = {
        "emails": tuple(e.address for e in contact.emails),
        "business_phones": tuple(p.e164 for p in contact.phones if p.label in _BUSINESS_PHONES),
        "mobile_phone": mobile.e164 if mobile is not None else None,
        "business_address": _address_value(business),
        "categories": tuple(sorted(contact.tags)),
    }
    if isinstance(contact, Person):
        values.update(
            given_name=_text(contact.first_name),
            surname=_text(contact.last_name),
            title=_text(contact.title),
            company_name=_text(company_name),
            department=_text(department),
            job_title=_text(job_title),
        )
    elif isinstance(contact, Company):
        values.update(
            given_name=None,
            surname=None,
            title=None,
            company_name=_text(contact.name),
            department=None,
            job_title=None,
        )
    return values


_BUSINESS_PHONES: Final = ("office", "switchboard")


def _address_value(address: Address | None) -> tuple[str, ...] | None:
    if address is None:
        return None
    return (address.street, address.postal_code, address.city, address.country)


#: Fields :func:`apply_values` writes on the contact itself (the others live on affiliations).
CONTACT_LEVEL_FIELDS: Final[frozenset[str]] = frozenset(
    {"given_name", "surname", "title", "emails", "business_phones", "mobile_phone",
     "business_address"}
)  # fmt: skip


def apply_values(contact: Contact, changes: SyncValues) -> Contact:
    """*contact* with the neutral *changes* applied (contact-level fields only).

    Fields outside :data:`CONTACT_LEVEL_FIELDS` (company, department, job
    title, CRM-owned fields) are ignored here; the caller applies them to the
    affiliation or reports them.  Invalid values raise
    :class:`crmkit.ValidationError` like any other write.
    """
    updates: dict[str, Any] = {}
    if "emails" in changes:
        old = {e.address.lower(): e for e in contact.emails}
        addresses = changes["emails"] or ()
        updates["emails"] = [
            old.get(a.lower()) or a
            for a in ([addresses] if isinstance(addresses, str) else addresses)
        ]
    if "business_phones" in changes or "mobile_phone" in changes:
        synced = (*_BUSINESS_PHONES, "mobile")
        kept_phones = [p for p in contact.phones if p.label not in synced]
        business = (
            changes.get("business_phones")
            if "business_phones" in changes
            else tuple(p.e164 for p in contact.phones if p.label in _BUSINESS_PHONES)
        )
        mobile = (
            changes.get("mobile_phone")
            if "mobile_phone" in changes
            else next((p.e164 for p in contact.phones if p.label == "mobile"), None)
        )
        numbers = [business] if isinstance(business, str) else list(business or ())
        phones: list[object] = [PhoneNumber.parse(n, label="office") for n in numbers]
        if isinstance(mobile, str) and mobile:
            phones.append(PhoneNumber.parse(mobile, label="mobile"))
        updates["phones"] = [*phones, *kept_phones]
    if "business_address" in changes:
        kept = [a for a in contact.addresses if a.label != "business"]
        value = changes["business_address"]
        if isinstance(value, tuple) and any(value):
            street, postal, city, country = (*value, "", "", "", "")[:4]
            kept.insert(
                0,
                Address(street=street, postal_code=postal, city=city,
                        country=country or "DE", label="business"),
            )  # fmt: skip
        updates["addresses"] = kept
    if isinstance(contact, Person):
        for neutral, attr in (("given_name", "first_name"), ("surname", "last_name")):
            if neutral in changes:
                value = changes[neutral]
                updates[attr] = value if isinstance(value, str) else ""
        if "title" in changes:
            value = changes["title"]
            updates["title"] = value if isinstance(value, str) else None
    return attrs.evolve(contact, **updates)


# ------------------------------------------------------------------ which contacts sync


def _str_set(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(v) for v in value)  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class SyncFilter:
    """Which contacts sync: all of the given conditions hold (an empty one holds always).

    ``relationships``: the contact has at least one of them; ``tags``: at
    least one of them; ``owners``: its owner is one of them; archived and
    merged contacts never sync unless ``include_archived``.
    """

    relationships: frozenset[str] = attrs.field(factory=frozenset, converter=_str_set)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_str_set)
    owners: frozenset[str] = attrs.field(factory=frozenset, converter=_str_set)
    kinds: frozenset[str] = attrs.field(
        factory=lambda: frozenset({"person", "company"}), converter=_str_set
    )
    include_archived: bool = False
    #: Leave out contacts who objected (Art. 21): their remote copy is deleted.
    exclude_objected: bool = True

    def stamp(self, contact: Contact) -> Contact:
        """*contact* (new, from the remote side) with what puts it in this scope:
        the first of the filter's tags, relationships and owners it lacks.

        Without it, a contact created in the remote folder would be imported
        and then, being out of scope, have its remote copy deleted.
        """
        changes: dict[str, Any] = {}
        if self.tags and not contact.tags & self.tags:
            changes["tags"] = contact.tags | {min(self.tags)}
        if self.relationships and not {str(r) for r in contact.relationships} & self.relationships:
            changes["relationships"] = {*contact.relationships, min(self.relationships)}
        if self.owners and contact.owner not in self.owners:
            changes["owner"] = min(self.owners)
        return attrs.evolve(contact, **changes) if changes else contact

    def accepts(self, contact: Contact) -> bool:
        """Whether *contact* is in the sync scope (with or without an e-mail address)."""
        if contact.merged_into is not None:
            return False
        if contact.archived_at is not None and not self.include_archived:
            return False
        if contact.kind not in self.kinds:
            return False
        if self.relationships and not {str(r) for r in contact.relationships} & self.relationships:
            return False
        if self.tags and not contact.tags & self.tags:
            return False
        return not (self.owners and contact.owner not in self.owners)


@attrs.frozen(kw_only=True)
class Selection:
    """The contacts in scope: those that sync and those skipped for lack of an e-mail address."""

    syncing: tuple[Contact, ...] = ()
    skipped_no_email: tuple[Contact, ...] = ()


def select_contacts(contacts: Iterable[Contact], where: SyncFilter | None = None) -> Selection:
    """Split *contacts* into those that sync and those skipped (in scope, no e-mail address)."""
    where = where or SyncFilter()
    syncing: list[Contact] = []
    skipped: list[Contact] = []
    for contact in contacts:
        if not where.accepts(contact):
            continue
        (syncing if contact.emails else skipped).append(contact)
    return Selection(syncing=tuple(syncing), skipped_no_email=tuple(skipped))


# ------------------------------------------------------------------ links and status


def _snapshot(value: object) -> dict[str, SyncValue]:
    if not isinstance(value, Mapping):
        raise ValidationError.single(
            "snapshot", "value.type", expected="mapping", actual=type(value).__name__
        )
    out: dict[str, SyncValue] = {}
    for k, v in value.items():
        out[str(k)] = tuple(str(x) for x in v) if isinstance(v, (list, tuple)) else v
    return out


def _status(value: object) -> str:
    if value not in LINK_STATUSES:
        raise ValidationError.single("status", "value.choice", value=value, choices=LINK_STATUSES)
    return str(value)


def _opt_dt(value: object) -> dt.datetime | None:
    return None if value is None else _convert.utc_datetime("last_synced", value)


def _conflict_fields(value: object) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in value})) if value else ()  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class SyncLink:
    """The link of one CRM contact to its copy in one remote address book.

    Keyed by ``(contact_id, provider, mailbox)``.  ``remote_id`` is the
    provider's immutable id (``None`` while the contact is skipped or after
    an unlink); ``change_key`` the remote version last seen (an item coming
    back with it is our own echo); ``snapshot`` the neutral values both
    sides agreed on at ``last_synced`` (only synced fields, never private
    ones) with its ``snapshot_hash``; ``crm_version`` the contact version
    synced (a newer one needs a push); ``status`` what the worklist shows,
    with ``last_error`` and the ``conflicts`` waiting for a decision.
    """

    contact_id: str
    provider: str
    mailbox: str
    folder: str = ""
    remote_id: str | None = None
    change_key: str | None = None
    snapshot: Mapping[str, SyncValue] = attrs.field(factory=dict, converter=_snapshot)
    snapshot_hash: str = ""
    crm_version: int = 0
    remote_modified: dt.datetime | None = attrs.field(default=None, converter=_opt_dt)
    last_synced: dt.datetime | None = attrs.field(default=None, converter=_opt_dt)
    status: LinkStatus = attrs.field(default="ok", converter=_status)
    last_error: str = ""
    conflicts: tuple[str, ...] = attrs.field(default=(), converter=_conflict_fields)

    @property
    def key(self) -> tuple[str, str, str]:
        """``(contact_id, provider, mailbox)``."""
        return (self.contact_id, self.provider, self.mailbox)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stores keep links in this form)."""
        return {
            "contact_id": self.contact_id,
            "provider": self.provider,
            "mailbox": self.mailbox,
            "folder": self.folder,
            "remote_id": self.remote_id,
            "change_key": self.change_key,
            "snapshot": {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.snapshot.items()
            },
            "snapshot_hash": self.snapshot_hash,
            "crm_version": self.crm_version,
            "remote_modified": _iso(self.remote_modified),
            "last_synced": _iso(self.last_synced),
            "status": self.status,
            "last_error": self.last_error,
            "conflicts": list(self.conflicts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyncLink:
        """The link from :meth:`to_dict` output."""
        return cls(**{k: data[k] for k in _LINK_KEYS if k in data})


_LINK_KEYS: Final = (
    "contact_id", "provider", "mailbox", "folder", "remote_id", "change_key", "snapshot",
    "snapshot_hash", "crm_version", "remote_modified", "last_synced", "status", "last_error",
    "conflicts",
)  # fmt: skip


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def linked(
    *,
    contact: Contact,
    provider: str,
    mailbox: str,
    folder: str,
    remote_id: str,
    change_key: str | None,
    result: MergeResult,
    at: dt.datetime,
    remote_modified: dt.datetime | None = None,
    crm_version: int | None = None,
) -> SyncLink:
    """The link after a successful round for *contact*: snapshot, hash and status from *result*."""
    pending = tuple(c.field for c in result.pending)
    return SyncLink(
        contact_id=contact.id,
        provider=provider,
        mailbox=mailbox,
        folder=folder,
        remote_id=remote_id,
        change_key=change_key,
        snapshot=result.snapshot,
        snapshot_hash=snapshot_hash(result.snapshot),
        crm_version=contact.version if crm_version is None else crm_version,
        remote_modified=remote_modified,
        last_synced=at,
        status="conflict" if pending else "ok",
        conflicts=pending,
    )


def unlinked(link: SyncLink, *, at: dt.datetime, reason: str = "deleted") -> SyncLink:
    """*link* after the remote copy was deleted or moved out: tombstoned, the CRM contact kept."""
    return attrs.evolve(
        link, remote_id=None, change_key=None, status="unlinked", last_error=reason, last_synced=at
    )


def failed(link: SyncLink, *, error: str, at: dt.datetime) -> SyncLink:
    """*link* after a failed round (the error text must hold no secret)."""
    return attrs.evolve(link, status="error", last_error=error[:500], last_synced=at)


def needs_push(link: SyncLink, contact: Contact) -> bool:
    """Whether *contact* changed in the CRM since *link* was synced."""
    return contact.version > link.crm_version


@attrs.frozen(kw_only=True)
class SyncStatus:
    """The sync state of one contact across its links (``crm.sync.status(contact)``)."""

    contact_id: str
    links: tuple[SyncLink, ...] = ()

    @property
    def state(self) -> str:
        """The worst status of the links: ``error`` > ``conflict`` > ``skipped_no_email`` >
        ``unlinked`` > ``ok``; ``not_linked`` without any link."""
        if not self.links:
            return "not_linked"
        for status in ("error", "conflict", "skipped_no_email", "unlinked", "erased"):
            if any(link.status == status for link in self.links):
                return status
        return "ok"

    def __iter__(self) -> Iterator[SyncLink]:
        return iter(self.links)


# ------------------------------------------------------------------ providers


@runtime_checkable
class SyncProvider(Protocol):
    """What a sync provider offers the core (registered through ``crmkit_register_sync_providers``).

    ``name`` is the provider key stored in links (``"m365"``); :meth:`sync`
    runs one round for the CRM and returns a report object; with *dry_run*
    it changes nothing on either side.
    """

    name: str

    def sync(self, crm: Any, *, dry_run: bool = False) -> Any:
        """Run one sync round for *crm* and return its report."""
        ...


__all__ = [
    "CONFLICT_POLICIES",
    "CONTACT_FIELDS",
    "CONTACT_LEVEL_FIELDS",
    "CRM_FIELDS",
    "DEFAULT_FIELD_TABLE",
    "DIRECTIONS",
    "LINK_STATUSES",
    "PRIVATE_FIELDS",
    "ConflictPolicy",
    "Direction",
    "FieldConflict",
    "FieldRule",
    "FieldTable",
    "LinkStatus",
    "MergeResult",
    "Selection",
    "Side",
    "SyncFilter",
    "SyncLink",
    "SyncProvider",
    "SyncStatus",
    "SyncValue",
    "SyncValues",
    "apply_values",
    "contact_values",
    "failed",
    "linked",
    "merge",
    "needs_push",
    "only_synced",
    "select_contacts",
    "snapshot_hash",
    "unlinked",
]
