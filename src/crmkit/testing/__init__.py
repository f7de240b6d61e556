"""The store contract suite: every backend must pass it unchanged.

Subclass :class:`StoreContract` in your backend's tests and provide a
``store_factory`` fixture that returns a callable making a fresh, empty
store (the stateful test needs several)::

    import pytest
    from crmkit.testing import StoreContract
    from mybackend import MyStore

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store_factory(self, tmp_path):
            counter = iter(range(10**9))
            return lambda: MyStore(tmp_path / f"db{next(counter)}")

The suite needs ``pytest`` and ``hypothesis`` (the ``crmkit[testing]`` extra).
"""

from collections.abc import Mapping

from crmkit.testing.contract import StoreContract, sample_company, sample_person


def undeclared_fields(
    entities: Mapping[str, type] | None = None, *, plugins: object = ()
) -> set[str]:
    """``entity.field`` names persisted without a personal-data declaration.

    Checks crmkit's own entities (and *entities*, e.g. a plugin's, by the
    names it declares them under) against every declaration made through
    ``crmkit_register_personal_data`` by the installed plugins and *plugins*.
    Use it in a plugin's tests: ``assert undeclared_fields({...}) == set()``.
    """
    from crmkit.plugins import Hooks, make_plugin_manager
    from crmkit.registry import builtin_entities, undeclared

    pm = make_plugin_manager(list(plugins) if isinstance(plugins, (list, tuple)) else [])
    fields = Hooks(pm).personal_data()
    return undeclared(fields, {**builtin_entities(), **(entities or {})})


__all__ = ["StoreContract", "sample_company", "sample_person", "undeclared_fields"]
