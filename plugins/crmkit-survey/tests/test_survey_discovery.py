"""The ``survey`` entry point is found and contributes its provider, worklist source, command."""

from __future__ import annotations

import crmkit
import crmkit_survey.hooks
from crmkit.plugins import Hooks


def test_default_plugin_manager_finds_the_entry_point() -> None:
    pm = crmkit.make_plugin_manager()
    assert pm.get_plugin("survey") is crmkit_survey.hooks
    hooks = Hooks(pm)
    info = {p.name: p for p in hooks.plugins()}["survey"]
    assert (info.module, info.distribution, info.version) == (
        "crmkit_survey.hooks",
        "crmkit-survey",
        "0.1.0",
    )
    assert hooks.consent_providers()["survey"] is crmkit_survey.hooks.provider
    assert [getattr(c, "name", None) for c in hooks.commands()].count("survey") == 1


def test_every_message_code_has_english_and_german() -> None:
    from crmkit.messages import template
    from crmkit_survey.messages import MESSAGES

    for code, (en, de) in MESSAGES.items():
        assert template(code, "en") == en and template(code, "de") == de, code
        assert en != de or code == "survey.page.language", code
