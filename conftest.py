"""Repository-wide pytest set-up for the core's and the plugins' tests.

* hypothesis profiles: ``ci`` (used when ``CI`` is set; derandomised, more
  examples) and ``dev`` (the default, quick);
* a ``clock`` fixture standing still at 2026-11-23 10:00 UTC;
* with ``CI`` set, a skipped test fails the run: in CI everything that should
  run must run (a missing PostgreSQL server is a failure, not a skip).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Callable[[], dt.datetime]:
    """A clock standing still at 2026-11-23 10:00 UTC."""
    return lambda: NOW


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session in CI when any test was skipped."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(f"CI: {skipped} test(s) were skipped; nothing may skip in CI.")
