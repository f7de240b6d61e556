"""The core's ``tests/test_sync_engine.py`` on PostgreSQL (see ``core_suites``)."""

import importlib.util
import sys
from pathlib import Path

_SUITES = "crmkit_pg_core_suites"
if _SUITES not in sys.modules:  # loaded by path: a test directory is not a package to import
    _spec = importlib.util.spec_from_file_location(
        _SUITES, Path(__file__).with_name("core_suites.py")
    )
    assert _spec is not None and _spec.loader is not None
    sys.modules[_SUITES] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_SUITES])
sys.modules[_SUITES].adopt(globals(), "test_sync_engine")
