"""pytest fixtures for the survey tests (``pytest_plugins = ["crmkit_survey.fixtures"]``):
real components — an SMTP server and the answer app on 127.0.0.1, a SQLite file, a clock
the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import crmkit
import crmkit_survey.hooks
from crmkit.crm import CRM
from crmkit_survey import Survey, configure
from crmkit_survey.testing import FakeClock, Inbox, make_config, smtp_server
from crmkit_survey.web import ThreadingServer, make_survey_server, serve_in_thread


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1; yields its inbox."""
    with smtp_server() as handler:
        yield handler


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock at 2026-11-23 10:00 UTC that the test can move."""
    return FakeClock()


@pytest.fixture
def crm(tmp_path: Path, fake_clock: FakeClock) -> Iterator[CRM]:
    """A CRM on a SQLite file with the survey plugin (and no other entry points)."""
    import crmkit_sqlite.hooks

    plugins = [crmkit_sqlite.hooks, crmkit_survey.hooks]
    with crmkit.open(f"sqlite:///{tmp_path}/crm.db", plugins=plugins, load_entry_points=False,
                     clock=fake_clock) as opened:  # fmt: skip
        yield opened


@pytest.fixture
def server() -> Iterator[ThreadingServer]:
    """The HTTP server on 127.0.0.1 (the app is set by the ``survey`` fixture)."""
    srv = make_survey_server(lambda env, start: [], "127.0.0.1", 0)
    thread = serve_in_thread(srv)
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def survey(crm: CRM, inbox: Inbox, server: ThreadingServer) -> Survey:
    """The survey configured for *crm*, its app served by *server*."""
    configured = configure(crm, make_config(inbox, server))
    server.set_app(configured.app())
    return configured
