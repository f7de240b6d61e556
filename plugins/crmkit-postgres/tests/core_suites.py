"""Run the core's facade tests that cover "memory" and "sqlite" stores on PostgreSQL too.

Many core test modules (erasure, consent, merge, the worklist …) run each test
on ``memory://`` and on an SQLite file.  :func:`adopt` loads such a module
into a ``test_pg_core_*`` module of this package, unchanged, and adds an
autouse fixture that sends every ``sqlite:///…`` URL the tests open to a
fresh schema of the test PostgreSQL server (the same file, the same schema:
reopening finds the data again).  Their ``memory`` cases are deselected here
(``conftest.py``): the core's own run has them.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit_postgres.testing import with_schema

CORE_TESTS = Path(__file__).resolve().parents[3] / "tests"
#: Marks the modules made by :func:`adopt` (for deselecting their memory cases).
ADOPTED = "__crmkit_pg_adopted__"


def adopt(
    namespace: MutableMapping[str, Any], core_module: str, *, leave_out: Iterable[str] = ()
) -> None:
    """Copy the tests and fixtures of ``tests/<core_module>.py`` into *namespace*.

    *leave_out* names tests that look at the SQLite file itself (not the store).
    """
    path = CORE_TESTS / f"{core_module}.py"
    name = f"crmkit_pg_core_{core_module}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    for key, value in vars(module).items():
        if key in leave_out:
            continue
        if key.startswith(("test_", "Test")) or _is_fixture(value):
            namespace[key] = value
    namespace[ADOPTED] = core_module
    namespace["_sqlite_urls_go_to_postgres"] = _redirect


def _is_fixture(value: object) -> bool:
    return type(value).__name__ == "FixtureFunctionDefinition" or hasattr(
        value, "_pytestfixturefunction"
    )


@pytest.fixture(autouse=True)
def _redirect(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``crmkit.open("sqlite:///…")`` opens a fresh PostgreSQL schema instead."""
    original: Callable[..., crmkit.CRM] = crmkit.open
    schemas: dict[str, str] = {}

    def open_on_postgres(url: str = "memory://", **kwargs: Any) -> crmkit.CRM:
        if isinstance(url, str) and url.startswith("sqlite:///"):
            schema = schemas.setdefault(url, f"core_{uuid.uuid4().hex[:12]}")
            url = with_schema(postgres_url, schema)
        return original(url, **kwargs)

    monkeypatch.setattr(crmkit, "open", open_on_postgres)
    yield
    if schemas:
        import psycopg
        from psycopg import sql

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            for schema in schemas.values():
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
