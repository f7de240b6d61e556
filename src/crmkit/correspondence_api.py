"""``crm.correspondence``: log, read, correct and follow up the history of a contact.

>>> import datetime as dt, crmkit
>>> crm = crmkit.open("memory://", clock=lambda: dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC))
>>> max_ = crm.contacts.add(crmkit.Person(first_name="Max", last_name="Mustermann"))
>>> note = crm.correspondence.log(
...     max_, "phone", direction="inbound", occurred_at="2026-11-23T09:30:00+01:00",
...     subject="Rückruf Angebot", agreements="Angebot bis Freitag",
...     follow_up="2026-11-27")
>>> [e.subject for e in crm.correspondence.timeline(max_)]
['Rückruf Angebot']
>>> [e.id for e in crm.correspondence.open_follow_ups()] == [note.id]
True

Every write is one transaction with an audit record and a revision; entries
are never changed in place (:meth:`Correspondence.correct`).  Entries marked
``internal`` need the ``internal_note`` permission to be read or written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from crmkit._guard import guarded
from crmkit.audit import diff
from crmkit.correspondence import (
    CORRECTABLE,
    INTERNAL_CHANNELS,
    CorrespondenceEntry,
    EntryRevision,
    FollowUp,
    Timeline,
    channel_name,
    timeline_query,
)
from crmkit.errors import ConflictError, NotFoundError, ValidationError
from crmkit.model import Company, Contact
from crmkit.serialize import to_dict

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.correspondence_import import ImportReport
    from crmkit.crm import CRM

EntryRef = CorrespondenceEntry | str

#: Default retention categories by channel (see ``Correspondence.default_retention``).
DEFAULT_RETENTION: dict[str, str] = {"letter": "business_letter", "email": "business_letter"}


def _entry_id(ref: EntryRef) -> str:
    if isinstance(ref, CorrespondenceEntry):
        return ref.id
    if isinstance(ref, str) and ref.strip():
        return ref.strip()
    raise ValidationError.single(
        "entry", "value.type", expected="CorrespondenceEntry or id", actual=type(ref).__name__
    )


class Correspondence:
    """``crm.correspondence``: calls, meetings, e-mails, letters, chats and notes."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm
        #: The retention category an entry gets when none is given, by channel:
        #: letters and e-mails are kept as business letters (6 years, §257 HGB)
        #: unless the caller says otherwise.  Policy data: change it per installation.
        self.default_retention: dict[str, str] = dict(DEFAULT_RETENTION)

    # -- helpers ---------------------------------------------------------------
    def _contacts(self, contact: object) -> list[Contact]:
        refs: list[Any]
        if isinstance(contact, (Contact, str)):
            refs = [contact]
        elif isinstance(contact, Iterable):
            refs = list(contact)
        else:
            raise ValidationError.single(
                "contact", "value.type", expected="contact, id, number or a list of them",
                actual=type(contact).__name__,
            )  # fmt: skip
        if not refs:
            raise ValidationError.single("contact", "value.required")
        return [self._crm._load(ref) for ref in refs]

    def _may_see_internal(self) -> bool:
        return self._crm.allowed("read", "internal_note")

    def _shown(self, entry: CorrespondenceEntry) -> CorrespondenceEntry:
        """*entry* if the actor may read it; an internal one needs ``internal_note``."""
        if entry.internal:
            self._crm.require("read", "internal_note", entry.id)
        return entry

    def _revision(
        self,
        entry: CorrespondenceEntry,
        action: str,
        reason: str = "",
        before: CorrespondenceEntry | None = None,
    ) -> EntryRevision:
        crm = self._crm
        changes = tuple(
            c
            for c in diff(to_dict(before) if before else None, to_dict(entry))
            if c.field != "revision"
        )
        return EntryRevision(
            entry=entry,
            at=crm.now(),
            actor_id=crm.actor.id,
            actor_name=crm.actor.name,
            action=action,
            reason=reason,
            changes=changes if before is not None else (),
        )

    def _store_new(self, entry: CorrespondenceEntry, action: str = "log") -> CorrespondenceEntry:
        crm = self._crm
        with crm.transaction():
            stored = crm.store.add_entry(self._revision(entry, action))
            crm._record("create", "correspondence", stored.id, None, stored)
            crm._emit("crmkit_on_correspondence_saved", entry=stored, created=True)
        return stored

    def _store_revision(
        self,
        current: CorrespondenceEntry,
        changed: CorrespondenceEntry,
        action: str,
        reason: str,
    ) -> CorrespondenceEntry:
        crm = self._crm
        stored = crm.store.correct_entry(self._revision(changed, action, reason, current))
        crm._record("update", "correspondence", stored.id, current, stored, reason=reason)
        crm._emit("crmkit_on_correspondence_saved", entry=stored, created=False)
        return stored

    # -- writing -----------------------------------------------------------------
    @guarded("create", "correspondence")
    def log(
        self,
        contact: Contact | str | Iterable[Contact | str],
        channel: str,
        *,
        occurred_at: dt.datetime | str,
        direction: str | None = None,
        subject: str = "",
        content: str = "",
        agreements: str = "",
        next_steps: str = "",
        follow_up: FollowUp | dt.date | str | Mapping[str, Any] | None = None,
        internal: bool | None = None,
        retention_category: str | None = None,
        tags: Iterable[str] | str = (),
        source: str | None = None,
    ) -> CorrespondenceEntry:
        """Record a contact that took place: a call, meeting, e-mail, letter, chat or note.

        *contact* is one contact (object, id or number ``C00001``) or several;
        *occurred_at* (required, timezone-aware) is when it happened — the
        facade adds when it was recorded and by whom.  *direction* is
        ``inbound``, ``outbound`` or ``internal`` (the default, and the only
        one, for ``internal_note`` and ``association_note``).  *follow_up* is
        a :class:`~crmkit.correspondence.FollowUp`, or just its due date.
        ``internal=True`` (default for the note channels) needs the
        ``internal_note`` permission.  *retention_category* defaults by
        channel (:attr:`default_retention`: letters and e-mails are business
        letters); ``""`` says the entry has none (an offer that led to no
        deal is not a Handelsbrief).  Returns the stored entry (revision 1).
        """
        values: dict[str, Any] = {
            "contact_ids": [c.id for c in self._contacts(contact)],
            "channel": channel,
            "occurred_at": occurred_at,
            "subject": subject,
            "content": content,
            "agreements": agreements,
            "next_steps": next_steps,
            "follow_up": dict(follow_up) if isinstance(follow_up, Mapping) else follow_up,
            "tags": tags,
            "source": source,
        }
        if direction is not None:
            values["direction"] = direction
        if retention_category is not None:  # "" says: no retention category
            values["retention_category"] = retention_category or None
        if internal is not None:
            values["internal"] = internal
        return self._new_entry(values, action="log")

    def _new_entry(self, values: dict[str, Any], *, action: str) -> CorrespondenceEntry:
        """Build, check and store a new entry from *values* (contact ids already checked)."""
        crm = self._crm
        if "retention_category" not in values and "channel" in values:
            default = self.default_retention.get(channel_name(values["channel"]))
            values = {**values, "retention_category": default}
        entry = CorrespondenceEntry(**values, recorded_at=crm.now(), author=crm.actor.id)
        if entry.internal:
            crm.require("create", "internal_note", entry.id)
        return self._store_new(entry, action)

    def _extend(
        self, entry: CorrespondenceEntry, *, content: str, reason: str
    ) -> CorrespondenceEntry:
        """A new revision of an imported entry with more content (a longer chat export)."""
        crm = self._crm
        crm.require("update", "correspondence", entry.id)
        with crm.transaction():
            current = self._current(entry.id)
            changed = attrs.evolve(current, content=content, revision=current.revision + 1)
            return self._store_revision(current, changed, "import", reason)

    @guarded("update", "correspondence")
    def correct(self, entry: EntryRef, /, *, reason: str, **changes: Any) -> CorrespondenceEntry:
        """Store a corrected revision of *entry*; the earlier ones stay readable.

        ``crm.correspondence.correct(entry, agreements="Angebot bis Montag",
        reason="Datum verwechselt")``.  *reason* is required.  Correctable
        fields: see :data:`crmkit.correspondence.CORRECTABLE` (not the id,
        author, recording time or import source).  Passing an entry object
        whose revision is no longer the stored one raises
        :class:`crmkit.ConflictError`.  A correction that changes nothing
        stores nothing and returns the entry as it is.
        """
        crm = self._crm
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.single("reason", "correspondence.reason_required")
        unknown = sorted(set(changes) - CORRECTABLE)
        if unknown:
            raise ValidationError.single(
                unknown[0], "correspondence.not_correctable", choices=", ".join(sorted(CORRECTABLE))
            )
        if "contact_ids" in changes:
            changes["contact_ids"] = [c.id for c in self._contacts(changes["contact_ids"])]
        if isinstance(changes.get("follow_up"), Mapping):
            changes["follow_up"] = dict(changes["follow_up"])
        with crm.transaction():
            current = self._current(entry)
            if "channel" in changes and channel_name(changes["channel"]) in INTERNAL_CHANNELS:
                changes.setdefault("internal", True)
                changes.setdefault("direction", "internal")
            changed = attrs.evolve(current, **changes)
            if changed == current:
                return current
            if current.internal or changed.internal:
                crm.require("create", "internal_note", current.id)
            changed = attrs.evolve(changed, revision=current.revision + 1)
            return self._store_revision(current, changed, "correct", reason.strip())

    def _current(self, entry: EntryRef) -> CorrespondenceEntry:
        crm = self._crm
        key = _entry_id(entry)
        current = self._shown(crm.store.get_entry(key, scope=crm.scope("correspondence")))
        if isinstance(entry, CorrespondenceEntry) and entry.revision != current.revision:
            raise ConflictError(
                kind="correspondence entry",
                key=key,
                expected=entry.revision,
                actual=current.revision,
            )
        return current

    @guarded("update", "correspondence")
    def complete_follow_up(
        self, entry: EntryRef, *, by: str | None = None, note: str | None = None
    ) -> CorrespondenceEntry:
        """Mark the entry's follow-up done (now, by *by* — default: the actor).

        Stored as a new revision; an entry without an open follow-up raises
        :class:`crmkit.ValidationError`.
        """
        crm = self._crm
        with crm.transaction():
            current = self._current(entry)
            if current.follow_up is None or not current.follow_up.is_open:
                raise ValidationError.single(
                    "follow_up", "correspondence.no_follow_up", key=current.id
                )
            done = attrs.evolve(
                current.follow_up,
                done_at=crm.now(),
                done_by=by or crm.actor.id,
                note=current.follow_up.note if note is None else note,
            )
            changed = attrs.evolve(current, follow_up=done, revision=current.revision + 1)
            return self._store_revision(current, changed, "complete_follow_up", "")

    # -- reading -------------------------------------------------------------------
    @guarded("read", "correspondence")
    def get(self, entry: EntryRef) -> CorrespondenceEntry:
        """The current revision of an entry (by id or entry)."""
        crm = self._crm
        return self._shown(crm.store.get_entry(_entry_id(entry), scope=crm.scope("correspondence")))

    @guarded("read", "correspondence")
    def revisions(self, entry: EntryRef) -> list[EntryRevision]:
        """Every revision of an entry, oldest first: who, when, why, and what changed."""
        crm = self._crm
        key = _entry_id(entry)
        self._shown(crm.store.get_entry(key, scope=crm.scope("correspondence")))
        return crm.store.entry_revisions(key)

    @guarded("read", "correspondence")
    def timeline(
        self,
        contact: Contact | str,
        *,
        include_company: bool = False,
        channels: Iterable[str] | str | None = None,
        since: dt.date | dt.datetime | str | None = None,
        until: dt.date | dt.datetime | str | None = None,
        text: str | None = None,
    ) -> Timeline:
        """The contact's history, newest first.

        ``include_company=True`` adds the affiliated side: on a company, the
        entries of its people ("a call with Max shows on Muster GmbH"); on a
        person, the entries of their companies.  *channels* keeps only those
        channels; *since*/*until* are inclusive (a date means the whole day
        in the CRM's time zone, :attr:`crmkit.CRM.zone`); *text* keeps
        entries where every word starts a word of the subject, content,
        agreements or next steps (folded: ``Müller`` = ``Mueller``; any text
        is safe).  Internal entries appear only for
        actors who may read internal notes.
        """
        crm = self._crm
        target = crm._load(contact)
        ids: set[str] = {target.id}
        if include_company:
            ids |= self._affiliated_ids(target)
        query = timeline_query(
            ids,
            channels=channels,
            since=since,
            until=until,
            text=text,
            include_internal=self._may_see_internal(),
            zone=crm.zone,
        )
        title = f"{target.number} {target.display_name}"
        return Timeline(crm.store.timeline(query), title=title)

    def _affiliated_ids(self, contact: Contact) -> set[str]:
        crm = self._crm
        if not crm.allowed("read", "affiliation"):
            return set()
        aff_scope = crm.scope("affiliation")
        if isinstance(contact, Company):
            affs = crm.store.affiliations_of_company(contact.id, scope=aff_scope)
            others = [a.person_id for a in affs]
        else:
            affs = crm.store.affiliations_of_person(contact.id, scope=aff_scope)
            others = [a.company_id for a in affs]
        scope = crm.scope()
        visible: set[str] = set()
        for other in others:
            try:
                crm.store.get_contact(other, scope=scope)
            except NotFoundError:
                continue
            visible.add(other)
        return visible

    @guarded("read", "correspondence")
    def open_follow_ups(
        self, *, due_by: dt.date | str | None = None, assignee: str | None = None
    ) -> list[CorrespondenceEntry]:
        """Open follow-ups across all contacts the actor may see, soonest due first.

        *due_by* keeps those due on or before that day (overdue included);
        *assignee* those assigned to that actor id.
        """
        crm = self._crm
        due = _due_by(due_by)
        found = crm.store.open_follow_ups(
            due_by=due, assignee=assignee, scope=crm.scope("correspondence")
        )
        if self._may_see_internal():
            return found
        return [e for e in found if not e.internal]

    # -- importers -----------------------------------------------------------------
    @guarded("create", "correspondence")
    def import_email(self, path: str | Path) -> ImportReport:
        """Import e-mails from an ``.eml`` file, a folder of them, or an mbox file.

        Sender and recipients are matched to contacts by their normalised
        address; a message with no known address is not imported and its
        addresses are reported as unmatched.  A message already imported (same
        Message-ID) is skipped.  Each message is its own transaction, so bad
        input never stops or spoils the rest.  See
        :class:`crmkit.correspondence_import.ImportReport`.
        """
        from crmkit.correspondence_import import import_email

        return import_email(self._crm, Path(path))

    @guarded("create", "correspondence")
    def import_whatsapp(
        self,
        path: str | Path,
        contact: Contact | str | None = None,
        *,
        me: str | None = None,
        timezone: str = "Europe/Berlin",
    ) -> ImportReport:
        """Import a WhatsApp chat export (``.txt``, or the ``.zip`` iOS writes): one entry per day.

        Without *contact*, senders are matched to contacts by phone number or
        by full name; the day goes on every matched contact, and senders that
        match nobody are reported.  *me* is your own name as the export shows
        it: your messages count as outbound, everyone else's as inbound
        (without it, matched senders are inbound); a day's direction is that
        of its first message.  The export's times are local; *timezone* says
        where.  Importing the same export again adds
        nothing; a longer export of the same chat adds the new days and
        extends the days that got more messages (as a new revision).
        """
        from crmkit.correspondence_import import import_whatsapp

        return import_whatsapp(self._crm, Path(path), contact, timezone=timezone, me=me)


def _due_by(value: dt.date | str | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise ValidationError.single("due_by", "value.type", expected="date", actual="datetime")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValidationError.single(
                "due_by", "value.invalid", value=value, reason=str(exc)
            ) from None
    raise ValidationError.single(
        "due_by", "value.type", expected="date", actual=type(value).__name__
    )


__all__ = ["DEFAULT_RETENTION", "Correspondence", "EntryRef"]
