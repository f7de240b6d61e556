"""The plugin manager and the typed facade through which the core calls hooks.

The plugin manager is a value: :func:`make_plugin_manager` returns a fresh
one each time, so tests never depend on what another test registered.  Core
code never touches ``pm.hook`` directly; it goes through :class:`Hooks`.
"""

from __future__ import annotations

import importlib.metadata
import types
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pluggy

from crmkit import hookspecs
from crmkit.auth import Authorizer
from crmkit.errors import CrmkitError, Finding, PluginError
from crmkit.model import Affiliation, Contact
from crmkit.store import StoreFactory
from crmkit.sync import SyncProvider

#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "crmkit"
#: Modules registered in every plugin manager (the built-ins use the same hooks).
BUILTIN_PLUGINS: tuple[str, ...] = ("crmkit.builtins",)


@attrs.frozen
class PluginInfo:
    """One loaded plugin: its name, module and the distribution it came from."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


class PluginManager(pluggy.PluginManager):
    """A pluggy plugin manager that remembers which distribution each plugin came from."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.distributions: dict[str, tuple[str, str]] = {}


def make_plugin_manager(
    plugins: Iterable[object] = (), *, load_entry_points: bool = True
) -> PluginManager:
    """A fresh plugin manager with the built-ins, *plugins* and (optionally) entry points.

    A plugin that fails to import or breaks the hook signatures raises
    :class:`crmkit.PluginError` naming its distribution.
    """
    pm = PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        module = importlib.import_module(name)
        pm.register(module, name=name)
    if load_entry_points:
        _load_entry_points(pm)
    for plugin in plugins:
        _register(pm, plugin, name=None, distribution=None)
    return pm


def _load_entry_points(pm: PluginManager) -> None:
    seen: set[str] = set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.value
        if ep.name in seen or pm.get_plugin(ep.name) is not None:
            continue
        seen.add(ep.name)
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginError(
                plugin=dist, detail=f"cannot import {ep.value}: {type(exc).__name__}: {exc}"
            ) from exc
        _register(pm, plugin, name=ep.name, distribution=ep.dist)


def _register(
    pm: PluginManager,
    plugin: object,
    *,
    name: str | None,
    distribution: importlib.metadata.Distribution | None,
) -> None:
    label = name or getattr(plugin, "__name__", None) or repr(plugin)
    try:
        registered = pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        dist = distribution.name if distribution is not None else label
        raise PluginError(plugin=dist, detail=str(exc)) from exc
    if distribution is not None and registered is not None:
        pm.distributions[registered] = (distribution.name, distribution.version)


class Hooks:
    """Typed calls into the plugin manager: the only way core code runs hooks."""

    def __init__(self, pm: PluginManager) -> None:
        self.pm = pm

    def store_factories(self) -> dict[str, tuple[StoreFactory, str]]:
        """Every registered URL scheme → (factory, plugin name)."""
        out: dict[str, tuple[StoreFactory, str]] = {}
        for impl in self.pm.hook.crmkit_register_stores.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(scheme: str, factory: StoreFactory, _name: str = plugin_name) -> None:
                if not isinstance(scheme, str) or not scheme or not callable(factory):
                    raise PluginError(plugin=_name, detail="register(scheme, factory) misused")
                key = scheme.lower()
                if key in out:
                    raise PluginError(
                        plugin=_name,
                        detail=f"URL scheme {key!r} is already registered by {out[key][1]}",
                    )
                out[key] = (factory, _name)

            self._call(impl, register=register)
        return out

    def authorizer(self) -> Authorizer:
        """The registered authorizer: a plugin's, else the built-in default policy."""
        found: list[tuple[Authorizer, str]] = []
        for impl in self.pm.hook.crmkit_register_authorizer.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(authorizer: Authorizer, _name: str = plugin_name) -> None:
                if not isinstance(authorizer, Authorizer):
                    raise PluginError(plugin=_name, detail="register() needs an Authorizer")
                found.append((authorizer, _name))

            self._call(impl, register=register)
        plugged = [f for f in found if f[1] not in BUILTIN_PLUGINS]
        if len(plugged) > 1:
            raise PluginError(
                plugin=plugged[1][1],
                detail=f"an authorizer is already registered by {plugged[0][1]}",
            )
        chosen = plugged or found
        if not chosen:
            raise PluginError(plugin="crmkit", detail="no authorizer is registered")
        return chosen[0][0]

    def validate_contact(self, contact: Contact) -> list[Finding]:
        """Findings every plugin adds for *contact*."""
        findings: list[Finding] = []
        for result in self._collect("crmkit_validate_contact", contact=contact):
            if result is None:
                continue
            for finding in result:
                if not isinstance(finding, Finding):
                    raise PluginError(plugin="?", detail=f"returned {finding!r}, not a Finding")
                findings.append(finding)
        return findings

    def worklist_sources(self) -> dict[str, Any]:
        """Worklist sources by name (built-in ones included); a duplicate name is an error."""
        sources: dict[str, Any] = {}
        for impl in reversed(self.pm.hook.crmkit_register_worklist_sources.get_hookimpls()):

            def register(name: str, source: Any, _plugin: str = impl.plugin_name) -> None:
                if name in sources:
                    raise PluginError(plugin=_plugin, detail=f"worklist source {name!r} exists")
                sources[name] = source

            self._call(impl, register=register)
        return sources

    def consent_providers(self) -> dict[str, Any]:
        """Consent-request providers by name; a duplicate name is an error."""
        providers: dict[str, Any] = {}
        for impl in reversed(self.pm.hook.crmkit_register_consent_providers.get_hookimpls()):

            def register(name: str, provider: Any, _plugin: str = impl.plugin_name) -> None:
                if name in providers:
                    raise PluginError(plugin=_plugin, detail=f"consent provider {name!r} exists")
                providers[name] = provider

            self._call(impl, register=register)
        return providers

    def segment_predicates(self) -> dict[str, Any]:
        """Custom segment predicates by name; a duplicate or badly formed name is an error."""
        found: dict[str, Any] = {}
        for impl in reversed(self.pm.hook.crmkit_register_segment_predicates.get_hookimpls()):

            def register(name: str, predicate: Any, _plugin: str = impl.plugin_name) -> None:
                if not isinstance(name, str) or not name or name != name.lower():
                    raise PluginError(plugin=_plugin, detail=f"bad predicate name {name!r}")
                if name in found:
                    raise PluginError(plugin=_plugin, detail=f"segment predicate {name!r} exists")
                if not callable(predicate):
                    raise PluginError(plugin=_plugin, detail=f"predicate {name!r} is not callable")
                found[name] = predicate

            self._call(impl, register=register)
        return found

    def sync_providers(self) -> dict[str, Any]:
        """Contact-sync providers by name; a duplicate name or a non-provider is an error."""
        providers: dict[str, Any] = {}
        for impl in reversed(self.pm.hook.crmkit_register_sync_providers.get_hookimpls()):

            def register(name: str, provider: Any, _plugin: str = impl.plugin_name) -> None:
                if not isinstance(name, str) or not name:
                    raise PluginError(plugin=_plugin, detail="register(name, provider) misused")
                if not isinstance(provider, SyncProvider):
                    raise PluginError(plugin=_plugin, detail=f"{provider!r} is no SyncProvider")
                if name in providers:
                    raise PluginError(plugin=_plugin, detail=f"sync provider {name!r} exists")
                providers[name] = provider

            self._call(impl, register=register)
        return providers

    def personal_data(self) -> list[Any]:
        """Every declared :class:`crmkit.registry.PersonalField` (built-in ones included)."""
        fields: list[Any] = []
        for impl in reversed(self.pm.hook.crmkit_register_personal_data.get_hookimpls()):
            self._call(impl, register=fields.append)
        return fields

    def commands(self) -> list[Any]:
        """CLI commands contributed by plugins."""
        commands: list[Any] = []
        for impl in self.pm.hook.crmkit_register_commands.get_hookimpls():
            self._call(impl, register=commands.append)
        return commands

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an ``crmkit_on_*`` hook; plugin failures become :class:`PluginError`."""
        if not hook.startswith("crmkit_on_"):
            raise ValueError(f"{hook} is not a notification hook")
        self._collect(hook, **kwargs)

    def notify_affiliation(self, crm: Any, affiliation: Affiliation, created: bool) -> None:
        """Shorthand for ``crmkit_on_affiliation_saved``."""
        self.notify(
            "crmkit_on_affiliation_saved", crm=crm, affiliation=affiliation, created=created
        )

    def _collect(self, hook: str, **kwargs: Any) -> list[Any]:
        results: list[Any] = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            results.append(self._call(impl, **kwargs))
        return results

    def _call(self, impl: pluggy.HookImpl, **kwargs: Any) -> Any:
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            return impl.function(**args)
        except CrmkitError:
            raise
        except Exception as exc:
            raise PluginError(
                plugin=impl.plugin_name, detail=f"{type(exc).__name__}: {exc}"
            ) from exc

    def plugins(self) -> list[PluginInfo]:
        """What is loaded, for ``crmkit plugins``."""
        out: list[PluginInfo] = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist = self.pm.distributions.get(name)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            module = plugin.__name__ if isinstance(plugin, types.ModuleType) else repr(plugin)
            out.append(
                PluginInfo(
                    name=name,
                    module=module,
                    distribution=dist[0] if dist is not None else "crmkit",
                    version=dist[1] if dist is not None else None,
                    hooks=hooks,
                )
            )
        return sorted(out, key=lambda p: p.name)


def plugin_names(pm: PluginManager) -> Sequence[str]:
    """Names of the registered plugins."""
    return [name for name, plugin in pm.list_name_plugin() if plugin is not None]


__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "Hooks",
    "PluginInfo",
    "PluginManager",
    "make_plugin_manager",
    "plugin_names",
]
