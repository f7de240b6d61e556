"""An in-memory remote address book for testing sync without a provider.

:class:`MemoryBook` implements :class:`crmkit.sync_engine.RemoteBook` with
the behaviour of a real service that matters to the sync rules: opaque ids,
a new change key on every write, a change log read through tokens (with
replays and expired tokens on request), a CRM number stored on items, and
writes refused when the change key is stale (412).  Provider plugins test
their own wire format against their own fake servers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import attrs

from crmkit.sync import SyncValue
from crmkit.sync_engine import RemoteChanges, RemoteItem, RemoteOp, RemoteResult, Removed


class MemoryBook:
    """A remote address book in memory (see the module docstring)."""

    def __init__(
        self, provider: str = "memory", mailbox: str = "anna@example.de", folder: str = "CRM"
    ) -> None:
        self.provider = provider
        self.mailbox = mailbox
        self.folder = folder
        self.items: dict[str, RemoteItem] = {}
        self.numbers: dict[str, str] = {}
        self.log: list[tuple[int, str]] = []
        self.writes: list[RemoteOp] = []
        self.conflicts_to_inject = 0
        self.token_generation = 0
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)

    # -- simulated user actions ---------------------------------------------------------
    def _bump(self, remote_id: str, values: Mapping[str, SyncValue]) -> RemoteItem:
        item = RemoteItem(remote_id=remote_id, change_key=f"ck{next(self._seq)}", values=values)
        self.items[remote_id] = item
        self.log.append((len(self.log) + 1, remote_id))
        return item

    def external_create(self, **values: SyncValue) -> str:
        """A user creates an item; returns its id."""
        remote_id = f"R{next(self._ids):04d}"
        self._bump(remote_id, values)
        return remote_id

    def external_edit(self, remote_id: str, **values: SyncValue) -> None:
        """A user edits fields of an item."""
        self._bump(remote_id, {**self.items[remote_id].values, **values})

    def external_delete(self, remote_id: str) -> None:
        """A user deletes an item (or moves it out of the folder)."""
        del self.items[remote_id]
        self.numbers.pop(remote_id, None)
        self.log.append((len(self.log) + 1, remote_id))

    def expire_tokens(self) -> None:
        """Every token given out so far is dead: the next round lists everything."""
        self.token_generation += 1

    # -- RemoteBook ---------------------------------------------------------------------
    def changes(self, token: str | None) -> RemoteChanges:
        """See :meth:`crmkit.sync_engine.RemoteBook.changes`."""
        position = len(self.log)
        new_token = f"{self.token_generation}:{position}"
        if token is not None:
            generation, _, seen = token.partition(":")
            if int(generation) == self.token_generation:
                changed = list(dict.fromkeys(rid for seq, rid in self.log if seq > int(seen)))
                events: list[RemoteItem | Removed] = [
                    self.items[rid] if rid in self.items else Removed(rid) for rid in changed
                ]
                return RemoteChanges(events=tuple(events), token=new_token)
        return RemoteChanges(events=tuple(self.items.values()), token=new_token, full=True)

    def get(self, remote_id: str) -> RemoteItem | None:
        """See :meth:`crmkit.sync_engine.RemoteBook.get`."""
        return self.items.get(remote_id)

    def crm_number(self, remote_id: str) -> str | None:
        """See :meth:`crmkit.sync_engine.RemoteBook.crm_number`."""
        return self.numbers.get(remote_id)

    def apply(self, ops: Sequence[RemoteOp]) -> list[RemoteResult]:
        """See :meth:`crmkit.sync_engine.RemoteBook.apply`."""
        out: list[RemoteResult] = []
        for op in ops:
            self.writes.append(op)
            if op.kind == "create":
                remote_id = self.external_create(**op.values)
                if op.crm_number:
                    self.numbers[remote_id] = op.crm_number
                out.append(RemoteResult(op=op, item=self.items[remote_id]))
                continue
            assert op.remote_id is not None
            current = self.items.get(op.remote_id)
            if current is None:
                out.append(RemoteResult(op=op, error="gone"))
            elif self.conflicts_to_inject or (
                op.change_key is not None and op.change_key != current.change_key
            ):
                self.conflicts_to_inject = max(0, self.conflicts_to_inject - 1)
                out.append(RemoteResult(op=op, error="conflict"))
            elif op.kind == "delete":
                self.external_delete(op.remote_id)
                out.append(RemoteResult(op=op))
            else:
                if op.crm_number:
                    self.numbers[op.remote_id] = op.crm_number
                self.external_edit(op.remote_id, **op.values)
                out.append(RemoteResult(op=op, item=self.items[op.remote_id]))
        return out

    def values(self, remote_id: str) -> dict[str, SyncValue]:
        """The current values of an item."""
        return dict(self.items[remote_id].values)

    def evolve(self, remote_id: str, **changes: object) -> None:
        """Replace attributes of a stored item without logging (test set-up)."""
        self.items[remote_id] = attrs.evolve(self.items[remote_id], **changes)  # type: ignore[arg-type]


__all__ = ["MemoryBook"]
