"""Imports point down: the domain never touches storage, the facade, plugins or the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "crmkit"
DOMAIN = [
    "model/__init__.py", "model/_convert.py", "model/values.py", "model/contact.py",
    "model/affiliation.py", "normalize.py", "validation.py", "errors.py", "messages.py",
    "ids.py", "sample.py", "auth.py", "audit.py", "search.py", "greeting.py", "sync.py",
    "dedup/__init__.py", "dedup/_table.py", "dedup/_blocking.py", "dedup/_scoring.py",
    "dedup/_cluster.py", "dedup/_report.py", "dedup/_engine.py",
]  # fmt: skip
FORBIDDEN_MODULES = {
    "crmkit.store", "crmkit.memory", "crmkit.crm", "crmkit.plugins", "crmkit.hookspecs",
    "crmkit.cli", "crmkit.builtins", "sqlite3", "sqlite_utils", "socket", "http", "urllib",
    "httpx", "requests", "psycopg", "pluggy", "time", "subprocess", "os",
}  # fmt: skip
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


@pytest.mark.parametrize("relpath", DOMAIN)
def test_domain_module_is_pure(relpath: str) -> None:
    tree = ast.parse((SRC / relpath).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES), (
                f"{relpath} imports {name}"
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, (
                f"{relpath} reads the clock ({node.func.attr})"
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{relpath} opens a file"


def test_every_domain_module_is_listed() -> None:
    listed = set(DOMAIN)
    for package in ("model", "dedup"):
        for path in (SRC / package).glob("*.py"):
            assert f"{package}/{path.name}" in listed
