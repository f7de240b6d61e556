"""Development tasks: ``nox --list`` shows them.

Sessions use uv to install the workspace (core and every plugin) into their
own virtual environments.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]

ROOT = Path(__file__).parent
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())


def _install_workspace(session: nox.Session) -> None:
    session.run_install(
        "uv", "sync", "--all-packages", "--active", "--frozen",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )  # fmt: skip


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the whole test suite of core and plugins together."""
    _install_workspace(session)
    session.run("pytest", *session.posargs)


def _with_testing_extra(plugin: str) -> str:
    """``plugins/<plugin>``, with ``[testing]`` when the plugin declares that extra."""
    with open(ROOT / "plugins" / plugin / "pyproject.toml", "rb") as fh:
        extras = tomllib.load(fh).get("project", {}).get("optional-dependencies", {})
    return f"plugins/{plugin}[testing]" if "testing" in extras else f"plugins/{plugin}"


@nox.session(python="3.11")
@nox.parametrize("plugin", [p.name for p in PLUGINS])
def plugins(session: nox.Session, plugin: str) -> None:
    """Test each plugin alone against the core (as hydra does for its plugins)."""
    # the SQLite store too: plugin tests use a real SQLite file where they need a store
    store = [] if plugin == "crmkit-sqlite" else ["-e", "plugins/crmkit-sqlite"]
    session.install("-e", ".[testing]", *store, "-e", _with_testing_extra(plugin), "pytest-timeout")
    session.run("pytest", f"plugins/{plugin}/tests", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff format check and ruff lint."""
    session.install("ruff")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over core, plugins and tests."""
    _install_workspace(session)
    session.run("mypy")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the site strictly (warnings are errors) and run the docs tests and notebooks.

    The site goes to ``site/``; ``uv run mkdocs serve`` shows it while writing.
    """
    _install_workspace(session)
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})
    session.run("pytest", "tests/test_docs.py", "tests/test_notebooks.py", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Run ``crmkit demo`` on a fresh SQLite file."""
    _install_workspace(session)
    db = Path(session.create_tmp()) / "demo.db"
    session.run("crmkit", "--db", str(db), "demo")


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks (not part of the test run); prints a table."""
    _install_workspace(session)
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python="3.11", default=False)
def bench_dedup(session: nox.Session) -> None:
    """Duplicate-detection benchmark against splink and recordlinkage (the bench group)."""
    session.run_install(
        "uv", "sync", "--all-packages", "--group", "bench", "--active", "--frozen",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )  # fmt: skip
    session.run("python", "-m", "bench.dedup", *session.posargs)
