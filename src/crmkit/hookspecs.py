"""Hook specifications: the plugin interface of crmkit.

A plugin is a module with functions decorated with :data:`crmkit.hookimpl`,
registered through the entry-point group ``crmkit``::

    [project.entry-points.crmkit]
    myplugin = "crmkit_myplugin.hooks"

Hook names follow three families:

* ``crmkit_register_*(register)`` contributes things; call ``register(...)``
  once per thing.  The host validates what it receives in one place.
* ``crmkit_prepare_*`` changes the object passed and returns ``None``.
* ``crmkit_on_*`` notifies after a transaction committed; never for a
  rolled-back one.  Exceptions raised there are wrapped in
  :class:`crmkit.PluginError` and do not undo the committed change.

Hooks evolve only by adding arguments; an implementation may accept any
subset of a hook's arguments (pluggy passes them by name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.auth import Authorizer
    from crmkit.cockpit import WorklistSource
    from crmkit.correspondence import CorrespondenceEntry
    from crmkit.crm import CRM
    from crmkit.errors import Finding
    from crmkit.model import Affiliation, Contact
    from crmkit.registry import PersonalField
    from crmkit.store import StoreFactory

PROJECT_NAME = "crmkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Decorator for hook implementations in plugins.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def crmkit_register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    """Contribute store backends by URL scheme.

    :param register: call ``register(scheme, factory)`` for each scheme, e.g.
        ``register("sqlite", open_sqlite_store)``.  *factory* is called as
        ``factory(url, options)`` with the full URL and the keyword options
        given to :func:`crmkit.open`, and returns an object that satisfies
        :class:`crmkit.store.Store`.
    :returns: ``None``.

    Runs once, when :func:`crmkit.open` looks up the scheme.  Two plugins
    registering the same scheme is a :class:`crmkit.PluginError`.
    """


@hookspec
def crmkit_register_authorizer(register: Callable[[Authorizer], None]) -> None:
    """Contribute the permission decision (who may do what).

    :param register: call ``register(authorizer)`` once with an object that
        satisfies :class:`crmkit.auth.Authorizer` (``decide``, ``row_scope``,
        ``hidden_fields``) — e.g. one that asks the host application's user
        database.  :class:`crmkit.auth.Policy` is the built-in one.
    :returns: ``None``.

    Runs when :func:`crmkit.open` is called without ``policy=``.  The
    built-in default policy is registered through this hook too; a plugin's
    authorizer replaces it.  Two plugins registering one is a
    :class:`crmkit.PluginError`.
    """


@hookspec
def crmkit_validate_contact(contact: Contact) -> Iterable[Finding] | None:
    """Add validation findings for a contact about to be saved.

    :param contact: the contact as it will be stored (already normalised).
    :returns: findings, or ``None`` for none.  A finding with severity
        ``"error"`` stops the save with :class:`crmkit.ValidationError`;
        warnings and infos are reported by ``crm.contacts.validate``.

    Runs inside the write transaction, before the store is touched, on every
    add and update.  Must be pure: no I/O, no clock.
    """


@hookspec
def crmkit_on_contact_saved(crm: CRM, contact: Contact, created: bool, origin: str) -> None:
    """Notify that a contact was added (*created* true) or changed.

    :param crm: the facade that made the change (same actor).
    :param contact: the contact as stored, with its new version.
    :param created: ``True`` for a new contact, ``False`` for an update.
    :param origin: ``"user"`` for an ordinary write, ``"sync:<provider>"``
        for a write a sync provider made inside ``crm.sync.applying`` — a
        provider skips those, so its own writes are not pushed back.

    Runs after the transaction committed.
    """


@hookspec
def crmkit_on_contact_deleted(crm: CRM, contact: Contact) -> None:
    """Notify that a contact was deleted for good.

    :param crm: the facade that made the change.
    :param contact: the contact as it was last stored.

    Runs after the transaction committed.
    """


@hookspec
def crmkit_on_contacts_merged(crm: CRM, survivor: Contact, merged_ids: tuple[str, ...]) -> None:
    """Notify that contacts were merged into *survivor*.

    :param crm: the facade that made the change.
    :param survivor: the surviving contact as stored after the merge.
    :param merged_ids: the ids of the contacts merged into it.

    Runs after the transaction committed.
    """


@hookspec
def crmkit_on_affiliation_saved(crm: CRM, affiliation: Affiliation, created: bool) -> None:
    """Notify that an affiliation was added (*created* true) or changed.

    :param crm: the facade that made the change.
    :param affiliation: the affiliation as stored.
    :param created: ``True`` when it is new.

    Runs after the transaction committed.
    """


@hookspec
def crmkit_on_affiliation_deleted(crm: CRM, affiliation: Affiliation) -> None:
    """Notify that an affiliation was removed.

    :param crm: the facade that made the change.
    :param affiliation: the affiliation as it was last stored.

    Runs after the transaction committed.
    """


@hookspec
def crmkit_on_correspondence_saved(crm: CRM, entry: CorrespondenceEntry, created: bool) -> None:
    """Notify that a correspondence entry was logged (*created* true) or got a new revision.

    :param crm: the facade that made the change.
    :param entry: the entry as stored (its ``revision`` says which one).
    :param created: ``True`` when it is new, ``False`` for a correction or a
        completed follow-up.

    Runs after the transaction committed.
    """


@hookspec
def crmkit_register_worklist_sources(register: Callable[[str, WorklistSource], None]) -> None:
    """Contribute sources of worklist items (duplicates, consent, retention …).

    :param register: call ``register(name, source)`` for each source.  A
        source is called as ``source(crm, request)`` with the facade and a
        :class:`crmkit.cockpit.WorklistRequest` (``today``, ``policy``,
        ``owner``) and returns an iterable of :class:`crmkit.worklist.WorkItem`.
        It reads through *crm*, so the actor's permissions and rows apply.
        A name registered twice is an error.
    :returns: ``None``.

    Runs each time ``crm.worklist()`` is built.
    """


@hookspec
def crmkit_register_consent_providers(register: Callable[[str, Any], None]) -> None:
    """Contribute providers that ask people for consent (a survey, a mailing tool).

    :param register: call ``register(name, provider)``; *provider* has a
        method ``send(crm, contact, event, reminder)`` that delivers the
        request (or, with ``reminder`` true, a reminder) described by the
        ``requested`` :class:`crmkit.consent.ConsentEvent` *event*.  Answers
        come back through ``crm.consents.record_answer``.
    :returns: ``None``.

    The core owns the schedule and the states (``crm.consents.run_schedule``);
    a provider only delivers.  A name registered twice is an error.
    """


@hookspec
def crmkit_register_segment_predicates(
    register: Callable[[str, Callable[[Contact, Any], bool]], None],
) -> None:
    """Contribute custom segment conditions, named in ``Segment(predicates=[...])``.

    :param register: call ``register(name, predicate)`` for each predicate;
        ``predicate(contact, context)`` returns ``True`` when the contact
        belongs in the segment.  *context* is a
        :class:`crmkit.segments.SegmentContext` (last contact, consent
        ledger).  *name* is lower case (letters, digits, ``_ . -``).
    :returns: ``None``.

    Predicates run in Python over the candidates the store found for the
    rest of the segment, when ``crm.segments`` evaluates a segment that
    names them.  A name registered twice is a :class:`crmkit.PluginError`.
    """


@hookspec
def crmkit_register_sync_providers(register: Callable[[str, Any], None]) -> None:
    """Contribute contact-sync providers (Microsoft 365, CardDAV …).

    :param register: call ``register(name, provider)`` for each provider;
        *provider* satisfies :class:`crmkit.sync.SyncProvider` (a ``name``
        and ``sync(crm, dry_run=False)`` returning a report).  The core owns
        the field-ownership table, the three-way merge, the links and the
        sync status (:mod:`crmkit.sync`); a provider only talks to its
        service and translates to and from the neutral values.
    :returns: ``None``.

    Runs when ``crm.sync.providers()`` is asked.  A name registered twice is
    a :class:`crmkit.PluginError`.
    """


@hookspec
def crmkit_register_personal_data(register: Callable[[PersonalField], None]) -> None:
    """Declare every field a plugin persists that may hold personal data.

    :param register: call ``register(field)`` with a
        :class:`crmkit.registry.PersonalField` per field (entity, field,
        category, how it is exported and erased), also for bookkeeping fields
        (category ``none``), so that :func:`crmkit.testing.undeclared_fields`
        can tell a forgotten field from a harmless one.
    :returns: ``None``.

    Access reports and erasure are built from the declarations.
    """


@hookspec
def crmkit_register_commands(register: Callable[[Any], None]) -> None:
    """Contribute commands to the ``crmkit`` command line.

    :param register: call ``register(command)`` with a :class:`click.Command`
        (or group) for each command.  Its name must not clash with a
        built-in command.
    :returns: ``None``.

    Runs once when the CLI starts.
    """


__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
