"""The plugin module behind the ``crmkit`` entry point ``survey``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import crmkit
from crmkit.cockpit import WorklistSource
from crmkit_survey.report import failed_deliveries
from crmkit_survey.survey import PROVIDER, SurveyProvider

#: The one provider object (it finds each CRM's configuration when it sends).
provider = SurveyProvider()


@crmkit.hookimpl
def crmkit_register_consent_providers(register: Callable[[str, Any], None]) -> None:
    """Register the ``survey`` provider (e-mail with a signed answer link)."""
    register(PROVIDER, provider)


@crmkit.hookimpl
def crmkit_register_worklist_sources(register: Callable[[str, WorklistSource], None]) -> None:
    """Register the ``survey`` worklist source: requests that could not be delivered."""
    register("survey", failed_deliveries)


@crmkit.hookimpl
def crmkit_register_commands(register: Callable[[Any], None]) -> None:
    """Register ``crmkit survey`` (send, serve, report, import)."""
    from crmkit_survey.cli import survey

    register(survey)
