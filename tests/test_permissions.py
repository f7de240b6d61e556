"""Actors, roles and permissions: every facade method is guarded, nothing leaks."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import crmkit
from crmkit import Company, Contact, PermissionDenied, Person, PluginError, ValidationError
from crmkit.auth import (
    DENY_ALL,
    LOCAL_ADMIN,
    Actor,
    Decision,
    Policy,
    Role,
    RowScope,
    default_policy,
    policy_from_dict,
    system_actor,
)
from crmkit.crm import CRM, UNGUARDED
from crmkit.io.policy import load_policy
from crmkit.memory import MemoryStore
from crmkit.search import PhoneMatch

Clock = Callable[[], dt.datetime]


class SpyStore(MemoryStore):
    """A real memory store that records which methods were called."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if not name.startswith("_") and callable(value) and name != "calls":
            super().__getattribute__("calls").append(name)
        return value


def _sub_apis(crm: CRM) -> Iterator[tuple[str, object]]:
    yield "crm", crm
    for name, value in vars(crm).items():
        if not name.startswith("_") and getattr(value, "_crm", None) is crm:
            yield name, value


def _public_methods(obj: object) -> Iterator[tuple[str, Callable[..., Any]]]:
    for name in dir(type(obj)):
        if name.startswith("_") or name in UNGUARDED:
            continue
        member = getattr(type(obj), name)
        if callable(member) and not isinstance(member, type):
            yield name, getattr(obj, name)


@pytest.fixture
def world(clock: Clock) -> tuple[SpyStore, dict[str, Any]]:
    store = SpyStore()
    admin = CRM(store, pm=crmkit.make_plugin_manager(load_entry_points=False), clock=clock,
                actor=LOCAL_ADMIN, authorizer=default_policy())  # fmt: skip
    company = admin.contacts.add(Company(name="Muster GmbH", phones=["+49 123 456-0"],
                                         notes="intern: zahlt spät", owner="anna"))  # fmt: skip
    person = admin.contacts.add(Person(first_name="Max", last_name="Mustermann",
                                       emails=["max@muster.de"], phones=["0170 1234567"],
                                       notes="privat"))  # fmt: skip
    aff = admin.affiliations.link(person, company, roles={"billing"})
    return store, {"company": company, "person": person, "affiliation": aff}


def _argument(param: inspect.Parameter, things: dict[str, Any]) -> Any:
    name = param.name
    if name in ("contact", "ref", "person", "candidate", "survivor"):
        return things["person"]
    if name == "company":
        return things["company"]
    if name in ("affiliation",):
        return things["affiliation"]
    if name == "contacts":
        return [Person(last_name="Neu")]
    if name in ("number",):
        return "0170 1234567"
    if name == "actor_id":
        return "anna"
    if name == "text":
        return "Muster"
    return "x"


def _call(method: Callable[..., Any], things: dict[str, Any]) -> Any:
    args = [
        _argument(p, things)
        for p in inspect.signature(method).parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    result = method(*args)
    if inspect.isgenerator(result):
        result = list(result)
    return result


def _all_guarded(crm: CRM) -> list[tuple[str, Callable[..., Any]]]:
    out = []
    for api_name, api in _sub_apis(crm):
        for name, method in _public_methods(api):
            out.append((f"{api_name}.{name}", method))
    return out


def test_every_public_method_is_denied_before_touching_the_store(
    world: tuple[SpyStore, dict[str, Any]], clock: Clock
) -> None:
    store, things = world
    crm = CRM(store, pm=crmkit.make_plugin_manager(load_entry_points=False), clock=clock,
              actor=Actor(id="nobody", roles={"staff"}), authorizer=DENY_ALL)  # fmt: skip
    methods = _all_guarded(crm)
    assert len(methods) >= 18, [m for m, _ in methods]
    for qualname, method in methods:
        assert hasattr(method, "__crmkit_guard__"), f"{qualname} has no permission check"
        store.calls.clear()
        with pytest.raises(PermissionDenied) as info:
            _call(method, things)
        touched = [c for c in store.calls if c not in ("append_audit", "transaction")]
        assert touched == [], f"{qualname} touched the store before the check: {touched}"
        assert info.value.params["actor"] == "nobody"
        assert "append_audit" in store.calls, f"{qualname}: denial not audited"


def test_denials_are_audited_with_action_and_resource(
    world: tuple[SpyStore, dict[str, Any]], clock: Clock
) -> None:
    store, things = world
    crm = CRM(store, pm=crmkit.make_plugin_manager(load_entry_points=False), clock=clock,
              actor=Actor(id="gast", roles={"readonly"}), authorizer=default_policy())  # fmt: skip
    with pytest.raises(PermissionDenied) as info:
        crm.contacts.update(attrs.evolve(things["person"], notes="x"))
    assert "gast" in str(info.value) and "darf" in info.value.message("de")
    with pytest.raises(PermissionDenied), crm.transaction():
        crm.contacts.archive(things["person"])
    denied = [r for r in store.iter_audit() if r.outcome == "denied"]
    assert [(r.actor_id, r.action, r.resource) for r in denied] == [
        ("gast", "update", "contact"),
        ("gast", "archive", "contact"),
    ]
    admin = crm.as_actor(LOCAL_ADMIN)
    assert [r.outcome for r in admin.audit.by_actor("gast")] == ["denied", "denied"]


def _contacts_in(value: Any) -> Iterator[Contact]:
    if isinstance(value, Contact):
        yield value
    elif isinstance(value, PhoneMatch):
        yield value.contact
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _contacts_in(item)


def test_every_contact_read_withholds_hidden_fields(
    world: tuple[SpyStore, dict[str, Any]], clock: Clock
) -> None:
    store, things = world
    policy = Policy(roles={"viewer": Role(
        allow={"contact": ("read",), "affiliation": ("read",)},
        hidden_fields={"contact": ("notes", "emails", "phones")},
    )})  # fmt: skip
    crm = CRM(store, pm=crmkit.make_plugin_manager(load_entry_points=False), clock=clock,
              actor=Actor(id="v", roles={"viewer"}), authorizer=policy)  # fmt: skip
    checked = 0
    for qualname, method in _all_guarded(crm):
        if getattr(method, "__crmkit_guard__", None) != ("read", "contact"):
            continue
        for contact in _contacts_in(_call(method, things)):
            checked += 1
            assert contact.redacted == {"notes", "emails", "phones"}, qualname
            assert (contact.notes, contact.emails, contact.phones) == ("", (), ()), qualname
    assert checked >= 4
    people = crm.affiliations.people(things["company"])
    assert people and all(p.redacted for _, p in people)
    by_phone = crm.lookup_phone("0170 1234567")
    assert by_phone and by_phone[0].contact.phones == ()


def test_update_keeps_hidden_fields(clock: Clock) -> None:
    policy = default_policy().with_roles(
        editor=Role(allow={"contact": ("read", "update")}, hidden_fields={"contact": ("notes",)})
    )
    admin = crmkit.open("memory://", load_entry_points=False, clock=clock, policy=policy)
    p = admin.contacts.add(Person(last_name="Muster", notes="geheim"))
    editor = admin.as_actor(Actor(id="ed", roles={"editor"}))
    seen = editor.contacts.get(p.id)
    assert seen.notes == "" and seen.redacted == {"notes"}
    changed = editor.contacts.update(attrs.evolve(seen, tags={"neu"}))
    assert changed.notes == ""
    assert admin.contacts.get(p.id).notes == "geheim"
    assert admin.contacts.get(p.id).tags == {"neu"}
    assert admin.contacts.get(p.id).redacted == frozenset()


def test_sales_sees_only_own_rows_in_the_store_query(clock: Clock) -> None:
    admin = crmkit.open("memory://", load_entry_points=False, clock=clock)
    own = admin.contacts.add(Company(name="Annas Kunde GmbH", owner="anna"))
    other = admin.contacts.add(Company(name="Bens Kunde GmbH", owner="ben"))
    staff = admin.contacts.add(Person(last_name="Angestellt", owner=None))
    admin.affiliations.link(staff, own)
    anna = admin.as_actor(Actor(id="anna", roles={"sales"}))
    assert {c.id for c in anna.contacts.all()} == {own.id, staff.id}
    assert anna.contacts.count() == 2
    assert [c.id for c in anna.search("Kunde")] == [own.id]
    with pytest.raises(crmkit.NotFoundError):
        anna.contacts.get(other.number or "")
    with pytest.raises(crmkit.NotFoundError):
        anna.contacts.update(attrs.evolve(other, notes="x"))
    mine = anna.contacts.add(Person(last_name="Neu"))
    assert mine.owner == "anna"
    with pytest.raises(PermissionDenied):
        anna.contacts.add(Person(last_name="Fremd", owner="ben"))
    with pytest.raises(PermissionDenied):
        anna.contacts.update(attrs.evolve(mine, owner="ben"))
    assert admin.contacts.count() == 4


def test_default_roles() -> None:
    policy = default_policy()

    def may(role: str, action: str, resource: str) -> bool:
        return policy.decide(Actor(id="x", roles={role}), action, resource).allowed

    assert may("admin", "erase", "contact")
    assert not may("staff", "erase", "contact")
    assert not may("sales", "erase", "contact")
    assert may("privacy_officer", "erase", "contact")
    assert may("privacy_officer", "read", "privacy_request")
    assert not may("staff", "read", "privacy_request")
    assert may("staff", "create", "privacy_request")
    assert may("privacy_officer", "export", "contact")
    assert not may("staff", "export", "contact")
    assert not may("readonly", "update", "contact")
    assert not may("sales", "read", "internal_note")
    assert may("system", "update", "sync_config")
    assert policy.row_scope(Actor(id="anna", roles={"sales"}), "contact") == RowScope(owner="anna")
    assert policy.row_scope(Actor(id="anna", roles={"sales", "staff"}), "contact") is None
    assert policy.hidden_fields(Actor(id="r", roles={"readonly"}), "contact") == {"notes"}
    assert policy.hidden_fields(Actor(id="r", roles={"readonly", "staff"}), "contact") == set()
    assert system_actor("m365-sync").roles == {"system"}


def test_without_an_actor_the_crm_is_a_local_admin_and_plain_ids_are_staff() -> None:
    crm = crmkit.open("memory://", load_entry_points=False)
    assert crm.actor == LOCAL_ADMIN
    assert crmkit.open("memory://", actor="anna", load_entry_points=False).actor.roles == {"staff"}
    with pytest.raises(ValidationError):
        crmkit.open("memory://", actor=42, load_entry_points=False)  # type: ignore[arg-type]


def test_policy_files(tmp_path: Path) -> None:
    toml = tmp_path / "policy.toml"
    toml.write_text(
        'name = "verein"\nextends = "default"\n\n[roles.kassenwart]\n'
        'allow = { contact = ["read"], consent = ["read", "create"] }\n'
        'hidden_fields = { contact = ["notes"] }\n\n[actors]\nerika = ["kassenwart"]\n',
        encoding="utf-8",
    )
    policy = load_policy(toml)
    erika = Actor(id="erika")
    assert policy.decide(erika, "create", "consent").allowed
    assert not policy.decide(erika, "update", "contact").allowed
    assert "admin" in policy.roles
    data = {"roles": {"x": {"allow": {"contact": ["read"]}}}}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_policy(path).decide(Actor(id="a", roles={"x"}), "read", "contact").allowed
    bad: dict[str, Any]
    for bad in (
        {"roles": {"x": {"allow": {"kontakte": ["read"]}}}},
        {"roles": {"x": {"allow": {"contact": ["lesen"]}}}},
        {"roles": {"x": {"rows": {"contact": "mine"}}}},
        {"roles": {"x": {"hidden_fields": {"contact": ["id"]}}}},
        {"roles": {"x": {"whatever": 1}}},
        {"rolls": {}},
    ):
        with pytest.raises(ValidationError):
            policy_from_dict(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[roles", encoding="utf-8")
    with pytest.raises(ValidationError):
        load_policy(broken)


class _AllowReads:
    def decide(self, actor: Actor, action: str, resource: str) -> Decision:
        return Decision(allowed=action == "read")

    def row_scope(self, actor: Actor, resource: str) -> RowScope | None:
        return None

    def hidden_fields(self, actor: Actor, resource: str) -> frozenset[str]:
        return frozenset()


class _HostPlugin:
    @crmkit.hookimpl
    def crmkit_register_authorizer(self, register: Callable[[object], None]) -> None:
        register(_AllowReads())


def test_host_authorizer_replaces_the_default() -> None:
    crm = crmkit.open("memory://", plugins=[_HostPlugin()], load_entry_points=False)
    assert crm.search("") == []
    with pytest.raises(PermissionDenied):
        crm.contacts.add(Person(last_name="X"))
    with pytest.raises(PluginError):
        crmkit.open("memory://", plugins=[_HostPlugin(), _HostPlugin()], load_entry_points=False)
