"""Actors, roles and the policy that decides who may do what.

Every facade call runs as an :class:`Actor`.  An :class:`Authorizer` decides
three things for an actor and a resource kind:

* may the actor perform an *action* (``read``, ``create``, ``update``,
  ``archive``, ``merge``, ``erase``, ``export``) on it at all;
* which rows it may see (:class:`RowScope`: all, or only its own contacts and
  the people of companies it owns) — the store applies this in its query;
* which fields stay hidden from it (they are withheld from returned
  entities and listed in the entity's ``redacted`` field).

:class:`Policy` is the built-in authorizer: plain data, loadable from TOML or
JSON, with sensible German-office defaults (:func:`default_policy`).  A host
application can plug in its own decision through the
``crmkit_register_authorizer`` hook.

This module is pure; :func:`crmkit.io.policy.load_policy` reads policy files.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from crmkit.errors import ValidationError
from crmkit.model import _convert

#: What can be protected.  ``internal_note`` is correspondence marked internal.
RESOURCES: Final[tuple[str, ...]] = (
    "contact",
    "affiliation",
    "correspondence",
    "internal_note",
    "consent",
    "evidence",
    "privacy_request",
    "audit",
    "segment",
    "campaign",
    "sync_config",
)
#: What can be done to a resource.
ACTIONS: Final[tuple[str, ...]] = (
    "read",
    "create",
    "update",
    "archive",
    "merge",
    "erase",
    "export",
)
#: Fields of a contact that a policy may hide.
HIDEABLE_CONTACT_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "emails",
        "phones",
        "addresses",
        "website",
        "notes",
        "owner",
        "lead",
        "customer_since",
        "tags",
        "vat_id",
        "archive_reason",
    }
)


def _actor_id(value: object) -> str:
    return _convert.identifier("id", value)


def _actor_name(value: object) -> str:
    return _convert.text("name", value, max_length=200)


def _roles(value: object) -> frozenset[str]:
    return frozenset(r.lower() for r in _convert.tags("roles", value))


@attrs.frozen(kw_only=True)
class Actor:
    """Who is acting: an id (stable, e.g. a login), a display name and roles.

    >>> Actor(id="anna", roles={"sales"}).name
    'anna'
    """

    id: str = attrs.field(converter=_actor_id)
    name: str = attrs.field(default="", converter=_actor_name)
    roles: frozenset[str] = attrs.field(factory=frozenset, converter=_roles)
    #: True for jobs such as sync or scheduled erasure.
    system: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.id)

    def __str__(self) -> str:
        roles = ", ".join(sorted(self.roles)) or "no roles"
        return f"{self.name} ({roles})"


#: The actor a CRM runs as when none is given: one local administrator.
LOCAL_ADMIN: Final = Actor(id="local-admin", name="local administrator", roles={"admin"})


def system_actor(job: str) -> Actor:
    """A named system actor for a background job (``system_actor("m365-sync")``)."""
    return Actor(id=f"system:{job}", name=f"system job {job}", roles={"system"}, system=True)


@attrs.frozen(kw_only=True)
class RowScope:
    """Rows an actor may see: its own contacts and the persons of its own companies.

    A contact is visible when ``contact.owner == owner``, or when it is a
    person affiliated with a company whose ``owner`` is *owner*.
    """

    owner: str


@attrs.frozen(kw_only=True)
class Decision:
    """The answer to "may this actor do that?"."""

    allowed: bool
    reason: str = ""


@runtime_checkable
class Authorizer(Protocol):
    """What the facade asks before every call.  :class:`Policy` is the built-in one."""

    def decide(self, actor: Actor, action: str, resource: str) -> Decision:
        """May *actor* perform *action* on resources of kind *resource*?"""
        ...

    def row_scope(self, actor: Actor, resource: str) -> RowScope | None:
        """The rows of *resource* the actor may see; ``None`` means all rows."""
        ...

    def hidden_fields(self, actor: Actor, resource: str) -> frozenset[str]:
        """Fields of *resource* the actor may not read."""
        ...


def _check_resource(field: str, value: str) -> str:
    if value != "*" and value not in RESOURCES:
        raise ValidationError.single(field, "value.choice", value=value,
                                     choices=", ".join(RESOURCES))  # fmt: skip
    return value


def _check_action(field: str, value: str) -> str:
    if value != "*" and value not in ACTIONS:
        raise ValidationError.single(field, "value.choice", value=value,
                                     choices=", ".join(ACTIONS))  # fmt: skip
    return value


def _allow(value: object) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("allow", "mapping of resource to actions", value)
    out: dict[str, frozenset[str]] = {}
    for resource, actions in value.items():
        res = _check_resource(f"allow.{resource}", str(resource))
        items = [actions] if isinstance(actions, str) else list(actions)
        out[res] = frozenset(_check_action(f"allow.{resource}", str(a)) for a in items)
    return out


def _rows(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("rows", "mapping of resource to 'all' or 'own'", value)
    out: dict[str, str] = {}
    for resource, scope in value.items():
        res = _check_resource(f"rows.{resource}", str(resource))
        if scope not in ("all", "own"):
            raise ValidationError.single(f"rows.{resource}", "value.choice", value=scope,
                                         choices="all, own")  # fmt: skip
        out[res] = str(scope)
    return out


def _hidden(value: object) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("hidden_fields", "mapping of resource to fields", value)
    out: dict[str, frozenset[str]] = {}
    for resource, fields in value.items():
        res = _check_resource(f"hidden_fields.{resource}", str(resource))
        names = frozenset(str(f) for f in fields)
        if res == "contact" and not names <= HIDEABLE_CONTACT_FIELDS:
            bad = sorted(names - HIDEABLE_CONTACT_FIELDS)[0]
            raise ValidationError.single(
                f"hidden_fields.{resource}", "value.choice", value=bad,
                choices=", ".join(sorted(HIDEABLE_CONTACT_FIELDS)),
            )  # fmt: skip
        out[res] = names
    return out


@attrs.frozen(kw_only=True)
class Role:
    """What one role may do: actions per resource, row scope, hidden fields.

    ``allow`` maps a resource (or ``"*"``) to actions (or ``"*"``); ``rows``
    maps a resource to ``"all"`` (default) or ``"own"``; ``hidden_fields``
    maps a resource to fields the role may not read.
    """

    allow: Mapping[str, frozenset[str]] = attrs.field(factory=dict, converter=_allow,
                                                      hash=False)  # fmt: skip
    rows: Mapping[str, str] = attrs.field(factory=dict, converter=_rows, hash=False)
    hidden_fields: Mapping[str, frozenset[str]] = attrs.field(
        factory=dict, converter=_hidden, hash=False
    )

    def allows(self, action: str, resource: str) -> bool:
        """True when this role grants *action* on *resource*."""
        for key in (resource, "*"):
            actions = self.allow.get(key, frozenset())
            if action in actions or "*" in actions:
                return True
        return False


def _role_map(value: object) -> Mapping[str, Role]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("roles", "mapping of role name to role", value)
    out: dict[str, Role] = {}
    for name, role in value.items():
        try:
            out[str(name).lower()] = role if isinstance(role, Role) else Role(**dict(role))
        except ValidationError as exc:
            raise exc.at(f"roles.{name}") from None
        except TypeError as exc:
            raise ValidationError.single(f"roles.{name}", "value.invalid", value=str(role),
                                         reason=str(exc)) from None  # fmt: skip
    return out


def _actor_map(value: object) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("actors", "mapping of actor id to roles", value)
    return {str(k): _roles(v) for k, v in value.items()}


@attrs.frozen(kw_only=True)
class Policy:
    """The built-in :class:`Authorizer`: roles as data.

    An actor with several roles gets the union of what they allow, all rows
    if any of its roles sees all rows, and only the fields every one of its
    reading roles hides stay hidden.  ``actors`` optionally maps actor ids to
    roles, for hosts that give crmkit only a login name.
    """

    name: str = "custom"
    version: str = "1"
    roles: Mapping[str, Role] = attrs.field(factory=dict, converter=_role_map, hash=False)
    actors: Mapping[str, frozenset[str]] = attrs.field(
        factory=dict, converter=_actor_map, hash=False
    )

    def _roles_of(self, actor: Actor) -> list[Role]:
        names = actor.roles | self.actors.get(actor.id, frozenset())
        return [self.roles[n] for n in sorted(names) if n in self.roles]

    def decide(self, actor: Actor, action: str, resource: str) -> Decision:
        """See :meth:`Authorizer.decide`."""
        if any(role.allows(action, resource) for role in self._roles_of(actor)):
            return Decision(allowed=True)
        return Decision(allowed=False, reason=f"no role of {actor.id} allows it")

    def row_scope(self, actor: Actor, resource: str) -> RowScope | None:
        """See :meth:`Authorizer.row_scope`."""
        granting = [r for r in self._roles_of(actor) if r.allows("read", resource)]
        if not granting or any(
            r.rows.get(resource, r.rows.get("*", "all")) == "all" for r in granting
        ):
            return None
        return RowScope(owner=actor.id)

    def hidden_fields(self, actor: Actor, resource: str) -> frozenset[str]:
        """See :meth:`Authorizer.hidden_fields`."""
        granting = [r for r in self._roles_of(actor) if r.allows("read", resource)]
        if not granting:
            return frozenset()
        hidden = [r.hidden_fields.get(resource, frozenset()) for r in granting]
        return frozenset.intersection(*hidden)

    def with_roles(self, **roles: Role | Mapping[str, Any]) -> Policy:
        """A copy with roles added or replaced."""
        return attrs.evolve(self, roles={**self.roles, **roles})


_ALL = ("*",)
_READ = ("read",)
_WRITE = ("read", "create", "update")


def default_policy() -> Policy:
    """crmkit's default roles.

    * ``admin`` — everything.
    * ``staff`` — contacts, affiliations, correspondence and internal notes,
      consents (read, record), segments; may log a privacy request but not see
      them; no erasure, no exports, no audit log.
    * ``sales`` — like staff, but only its own contacts and the people of its
      own companies; no internal notes.
    * ``readonly`` — reads contacts, affiliations and correspondence, without
      notes.
    * ``privacy_officer`` — reads everything, the only human role that may
      erase contacts, see privacy requests, export access reports and read
      consent evidence and the audit log.
    * ``system`` — what sync and scheduled jobs need, including erasure once a
      privacy officer decided it.
    """
    return Policy(
        name="crmkit-default",
        version="1",
        roles={
            "admin": Role(allow={"*": _ALL}),
            "staff": Role(
                allow={
                    "contact": ("read", "create", "update", "archive"),
                    "affiliation": ("read", "create", "update", "archive"),
                    "correspondence": _WRITE,
                    "internal_note": ("read", "create"),
                    "consent": ("read", "create"),
                    "privacy_request": ("create",),
                    "segment": _WRITE,
                    "campaign": ("read", "create"),
                }
            ),
            "sales": Role(
                allow={
                    "contact": _WRITE,
                    "affiliation": _WRITE,
                    "correspondence": _WRITE,
                    "consent": _READ,
                    "segment": _READ,
                    "campaign": _READ,
                },
                rows={"contact": "own", "affiliation": "own", "correspondence": "own"},
            ),
            "readonly": Role(
                allow={"contact": _READ, "affiliation": _READ, "correspondence": _READ},
                hidden_fields={"contact": ("notes",)},
            ),
            "privacy_officer": Role(
                allow={
                    "*": _READ,
                    "contact": ("read", "update", "erase", "export"),
                    "privacy_request": _ALL,
                    "consent": ("read", "create", "update"),
                    "evidence": ("read", "export"),
                    "audit": ("read", "export"),
                }
            ),
            "system": Role(
                allow={
                    "contact": ("read", "create", "update", "archive", "erase"),
                    "affiliation": _ALL,
                    "correspondence": ("read", "create"),
                    "consent": ("read", "create", "update"),
                    "sync_config": ("read", "update"),
                }
            ),
        },
    )


#: A policy that allows nothing: for tests that every method is guarded.
DENY_ALL: Final = Policy(name="deny-all")


def policy_from_dict(data: Mapping[str, Any]) -> Policy:
    """A :class:`Policy` from plain data (the TOML/JSON shape).

    ``{"name": ..., "version": ..., "roles": {"sales": {"allow": {...},
    "rows": {...}, "hidden_fields": {...}}}, "actors": {"anna": ["sales"]}}``.
    With ``"extends": "default"`` the roles are added to the default ones.
    """
    if not isinstance(data, Mapping):
        raise _convert.type_error("policy", "mapping", data)
    known = {"name", "version", "roles", "actors", "extends"}
    extra = sorted(set(data) - known)
    if extra:
        raise ValidationError.single(extra[0], "value.choice", value=extra[0],
                                     choices=", ".join(sorted(known)))  # fmt: skip
    base = default_policy() if data.get("extends") == "default" else Policy()
    roles = _role_map(data.get("roles", {}))
    return Policy(
        name=str(data.get("name", base.name)),
        version=str(data.get("version", base.version)),
        roles={**base.roles, **roles},
        actors=data.get("actors", {}),
    )


def policy_from_text(text: str, *, fmt: str = "toml") -> Policy:
    """A :class:`Policy` from TOML (``fmt="toml"``) or JSON (``fmt="json"``) text.

    Reading the file is :func:`crmkit.io.policy.load_policy`'s job; this stays pure.
    """
    if fmt not in ("toml", "json"):
        raise ValidationError.single("fmt", "value.choice", value=fmt, choices="toml, json")
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError.single(
            "policy", "value.invalid", value=text[:40], reason=str(exc)
        ) from None
    return policy_from_dict(data)


def as_actor(value: Actor | str | None) -> Actor:
    """An :class:`Actor` from an actor, a plain id (role ``staff``) or ``None`` (local admin)."""
    if value is None:
        return LOCAL_ADMIN
    if isinstance(value, Actor):
        return value
    if isinstance(value, str):
        return Actor(id=value, roles={"staff"})
    raise _convert.type_error("actor", "Actor or str", value)


def all_roles(policy: Policy) -> Iterable[str]:
    """The role names a policy defines."""
    return sorted(policy.roles)


__all__ = [
    "ACTIONS",
    "DENY_ALL",
    "HIDEABLE_CONTACT_FIELDS",
    "LOCAL_ADMIN",
    "RESOURCES",
    "Actor",
    "Authorizer",
    "Decision",
    "Policy",
    "Role",
    "RowScope",
    "all_roles",
    "as_actor",
    "default_policy",
    "policy_from_dict",
    "policy_from_text",
]
