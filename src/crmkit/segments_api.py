"""``crm.segments``: save segments by name, list their members, count them.

>>> import crmkit
>>> from crmkit.segments import Segment
>>> crm = crmkit.open("memory://", load_entry_points=False)
>>> _ = crm.contacts.add(crmkit.Company(name="Muster GmbH", relationships={"customer"}))
>>> _ = crm.contacts.add(crmkit.Person(last_name="Gäbler", relationships={"lead"}))
>>> crm.segments.save("Kunden", Segment(relationships={"customer"}))
>>> crm.segments.count("Kunden")
1
>>> [c.name for c in crm.segments.members("Kunden")]
['Muster GmbH']

The store evaluates what it can (:func:`crmkit.store.segment_ids`); consent
conditions and custom predicates (``crmkit_register_segment_predicates``)
run here, in Python, over the store's candidates.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from crmkit._guard import guarded
from crmkit.errors import ValidationError
from crmkit.frames import ContactList
from crmkit.model import _convert
from crmkit.segments import Segment, SegmentContext, store_part
from crmkit.store import record_store, segment_ids

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM
    from crmkit.model import Contact

#: The record kind saved segments are kept under.
RECORD_KIND = "segment"
_BATCH = 500


def segment_name(value: object, field: str = "name") -> str:
    """A segment or campaign name: one line of text, not blank."""
    name = _convert.text(field, value, max_length=100)
    if not name:
        raise ValidationError.single(field, "value.required")
    return name


class Segments:
    """``crm.segments``: named segments and their members."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    # -- saved segments ------------------------------------------------------------------
    @guarded("create", "segment")
    def save(self, name: str, segment: Segment) -> None:
        """Save *segment* under *name* (replacing a segment of that name); audited."""
        crm = self._crm
        key = segment_name(name)
        if not isinstance(segment, Segment):
            raise _convert.type_error("segment", "Segment", segment)
        records = record_store(crm.store)
        data = {"name": key, "segment": segment.to_dict(), "saved_by": crm.actor.id,
                "saved_at": crm.now().isoformat()}  # fmt: skip
        with crm.transaction():
            records.put_record(RECORD_KIND, key, data)
            crm._record("create", "segment", key, reason=segment.to_json())

    @guarded("read", "segment")
    def get(self, name: str) -> Segment:
        """The segment saved under *name*; :class:`crmkit.NotFoundError` if there is none."""
        data = record_store(self._crm.store).get_record(RECORD_KIND, segment_name(name))
        return Segment.from_dict(data["segment"])

    @guarded("read", "segment")
    def list(self) -> list[str]:
        """The names of the saved segments, sorted."""
        return [key for key, _ in record_store(self._crm.store).iter_records(RECORD_KIND)]

    @guarded("update", "segment")
    def delete(self, name: str) -> None:
        """Forget the segment saved under *name* (:class:`crmkit.NotFoundError` if none)."""
        crm = self._crm
        key = segment_name(name)
        with crm.transaction():
            record_store(crm.store).delete_record(RECORD_KIND, key)
            crm._record("delete", "segment", key)

    # -- evaluation ------------------------------------------------------------------------
    def _resolve(self, segment: Segment | str) -> Segment:
        """*segment* itself, or the segment saved under that name."""
        return self.get(segment) if isinstance(segment, str) else segment

    @guarded("read", "segment")
    def ids(self, segment: Segment | str, *, include_archived: bool = False) -> builtins.list[str]:
        """The ids of the members of *segment* (or a saved segment's name), by number."""
        crm = self._crm
        crm.require("read", "contact")
        chosen = self._resolve(segment)
        if not isinstance(chosen, Segment):
            raise _convert.type_error("segment", "Segment or name", chosen)
        scope = crm.scope()
        candidates = segment_ids(
            crm.store, store_part(chosen), include_archived=include_archived, scope=scope
        )
        if chosen.pushable():
            return candidates
        predicates = crm.hooks.segment_predicates()
        unknown = chosen.predicate_names() - predicates.keys()
        if unknown:
            raise ValidationError.single(
                "predicates",
                "value.choice",
                value=", ".join(sorted(unknown)),
                choices=", ".join(sorted(predicates)) or "—",
            )
        out: builtins.list[str] = []
        for contact_id in candidates:
            contact = crm.store.get_contact(contact_id)
            if chosen.matches(contact, self._context(contact, chosen, predicates)):
                out.append(contact_id)
        return out

    def _context(self, contact: Contact, segment: Segment, predicates: Any) -> SegmentContext:
        from crmkit.correspondence import timeline_query

        store = self._crm.store
        last = None
        if segment.needs_last_contact():
            entries = store.timeline(timeline_query([contact.id]))
            last = max((e.occurred_at for e in entries), default=None)
        events = self._crm.consents._events(contact) if segment.needs_consent() else []
        return SegmentContext(
            last_contact=last, consent_events=tuple(events), predicates=predicates
        )

    @guarded("read", "segment")
    def members(
        self, segment: Segment | str, *, include_archived: bool = False
    ) -> Iterator[Contact]:
        """Stream the contacts in *segment* (or a saved segment's name), by number.

        Only contacts the actor may read; hidden fields withheld.
        """
        crm = self._crm
        ids = self.ids(segment, include_archived=include_archived)
        for start in range(0, len(ids), _BATCH):
            for contact_id in ids[start : start + _BATCH]:
                yield crm._show(crm.store.get_contact(contact_id))

    @guarded("read", "segment")
    def count(self, segment: Segment | str, *, include_archived: bool = False) -> int:
        """How many contacts are in *segment* (or a saved segment's name)."""
        return len(self.ids(segment, include_archived=include_archived))

    @guarded("read", "segment")
    def contacts(self, segment: Segment | str, *, include_archived: bool = False) -> ContactList:
        """The members as a :class:`crmkit.frames.ContactList` (a table in Jupyter)."""
        return ContactList(self.members(segment, include_archived=include_archived))

    @guarded("read", "segment")
    def to_pandas(self, segment: Segment | str, *, include_archived: bool = False) -> Any:
        """The members as a :class:`pandas.DataFrame` (needs the ``pandas`` extra)."""
        return self.contacts(segment, include_archived=include_archived).to_pandas()


__all__ = ["RECORD_KIND", "Segments", "segment_name"]
