"""End to end in headless Chromium: open the link from the received mail, click "Zustimmen",
see the confirmation — and the ledger shows the grant with its proof.

Uses Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``.ci/run``) through
Playwright for Python; ``playwright install`` is never run.  Without Chromium the test
skips locally and fails in CI (``CI`` set: nothing may skip there).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import crmkit
from crmkit.consent import text_sha256
from crmkit.crm import CRM
from crmkit_survey import Survey
from crmkit_survey.testing import TEXT, Inbox, link_in

pytest_plugins = ["crmkit_survey.fixtures"]

CHROMIUM = os.environ.get("CRMKIT_CHROMIUM", "/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[3] / "docs" / "img"
SCREENSHOT = IMAGES / "survey-answer-page.png"
CONFIRMATION = IMAGES / "survey-confirmation.png"


def _chromium() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")


def test_agree_in_a_real_browser(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    erika = crm.contacts.add(
        crmkit.Person(salutation="Frau", first_name="Erika", last_name="Mustermann",
                      emails=["erika.mustermann@muster.de"])
    )  # fmt: skip
    survey.request(erika, "newsletter")
    link = link_in(inbox.to("erika.mustermann@muster.de")[0])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 900, "height": 600}, locale="de-DE")
            page.goto(link)
            assert page.locator("#consent-text").inner_text().strip() == TEXT.de
            if os.environ.get("CRMKIT_SCREENSHOTS") or not SCREENSHOT.exists():
                page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert crm.consents.events(erika)[-1].kind == "sent"  # opening changed nothing
            page.get_by_role("button", name="Zustimmen").click()
            page.wait_for_selector("#result")
            assert "Ihre Einwilligung wurde gespeichert" in page.locator("#result").inner_text()
            assert page.locator("#withdraw").is_visible()
            if os.environ.get("CRMKIT_SCREENSHOTS") or not CONFIRMATION.exists():
                page.screenshot(path=str(CONFIRMATION))
            agent = page.evaluate("navigator.userAgent")
        finally:
            browser.close()
    state = crm.consents.state(erika, "newsletter", "erika.mustermann@muster.de")
    assert state.status == "granted"
    [granted] = [e for e in crm.consents.events(erika) if e.kind == "granted"]
    assert (granted.channel, granted.ip, granted.user_agent) == ("survey", "127.0.0.1", agent)
    assert (granted.text_version, granted.text_sha256) == (TEXT.version, text_sha256(TEXT.de))
    assert crm.consents.may_contact(erika, "newsletter", "email").allowed
