"""Built-in hook implementations, registered like any plugin.

``memory://`` comes from here, and the core's own contact findings
(``phone.unassigned``) are contributed through the same hook a plugin uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crmkit.auth import Authorizer, default_policy
from crmkit.cockpit import BUILTIN_SOURCES, WorklistSource
from crmkit.errors import Finding
from crmkit.hookspecs import hookimpl
from crmkit.memory import open_memory_store
from crmkit.model import Contact
from crmkit.registry import PersonalField, builtin_fields
from crmkit.store import StoreFactory
from crmkit.sync_api import sync_items


@hookimpl
def crmkit_register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    """Register ``memory://``."""
    register("memory", open_memory_store)


@hookimpl
def crmkit_register_authorizer(register: Callable[[Authorizer], None]) -> None:
    """The default policy (:func:`crmkit.auth.default_policy`)."""
    register(default_policy())


@hookimpl
def crmkit_validate_contact(contact: Contact) -> Iterable[Finding]:
    """The contact's own value warnings (numbers in unassigned ranges …)."""
    return contact.findings()


@hookimpl
def crmkit_register_worklist_sources(register: Callable[[str, WorklistSource], None]) -> None:
    """Leads, customers, roles, data gaps, bounces, follow-ups and the quality sample."""
    for name, source in BUILTIN_SOURCES.items():
        register(name, source)
    register("sync", sync_items)


@hookimpl
def crmkit_register_personal_data(register: Callable[[PersonalField], None]) -> None:
    """The fields of crmkit's own entities (see :func:`crmkit.registry.builtin_fields`)."""
    for field in builtin_fields():
        register(field)
