"""The plugin's messages in English and German (registered with the core catalogue)."""

from __future__ import annotations

from typing import Final

from crmkit.messages import register_messages

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # errors
    "survey.token.invalid": (
        "This link is not valid. Please use the link from your e-mail exactly as it is.",
        "Dieser Link ist ungültig. Bitte verwenden Sie den Link aus Ihrer E-Mail unverändert.",
    ),
    "survey.token.expired": (
        "This link has expired. If you still want to answer, please contact {controller}.",
        "Dieser Link ist abgelaufen. Wenn Sie noch antworten möchten, wenden Sie sich bitte "
        "an {controller}.",
    ),
    "survey.token.used": (
        "This request has already been answered. Thank you.",
        "Diese Anfrage wurde bereits beantwortet. Vielen Dank.",
    ),
    "survey.csrf.invalid": (
        "The form was out of date or incomplete. Please open the link from your e-mail again.",
        "Das Formular war veraltet oder unvollständig. Bitte öffnen Sie den Link aus Ihrer "
        "E-Mail erneut.",
    ),
    "survey.not_configured": (
        "The survey provider is not configured: call crmkit_survey.configure(crm, config) "
        "or set CRMKIT_SURVEY_CONFIG",
        "Der Umfrage-Anbieter ist nicht eingerichtet: crmkit_survey.configure(crm, config) "
        "aufrufen oder CRMKIT_SURVEY_CONFIG setzen",
    ),
    "survey.no_text": (
        "No consent text for purpose {purpose!r} (version {version}) is configured",
        "Für den Zweck {purpose!r} (Version {version}) ist kein Einwilligungstext eingerichtet",
    ),
    "survey.import.row": (
        "line {line}: {detail}",
        "Zeile {line}: {detail}",
    ),
    "survey.import.bad_answer": (
        "answer {value!r} is neither yes nor no",
        "Antwort {value!r} ist weder ja noch nein",
    ),
    "survey.import.bad_time": (
        "time {value!r} is not an ISO 8601 time",
        "Zeit {value!r} ist keine Zeitangabe nach ISO 8601",
    ),
    "survey.import.no_request": (
        "no open request for {key}",
        "keine offene Anfrage zu {key}",
    ),
    # worklist
    "survey.send_failed": (
        "The consent request ({purpose}) to {name} could not be delivered to {address}: {error}",
        "Die Einwilligungsanfrage ({purpose}) an {name} konnte nicht an {address} zugestellt "
        "werden: {error}",
    ),
    "action.survey_check_address": (
        "Check the e-mail address, then ask again or decide the case",
        "E-Mail-Adresse prüfen, dann erneut anfragen oder den Fall entscheiden",
    ),
    # the answer page
    "survey.page.title": ("Your consent", "Ihre Einwilligung"),
    "survey.page.asks": (
        "{controller} asks for your consent: {purpose}",
        "{controller} bittet um Ihre Einwilligung: {purpose}",
    ),
    "survey.page.for": ("Request to {name} ({address})", "Anfrage an {name} ({address})"),
    "survey.page.text": (
        "The consent text (version {version})",
        "Der Einwilligungstext (Version {version})",
    ),
    "survey.page.grant": ("Agree", "Zustimmen"),
    "survey.page.decline": ("Decline", "Ablehnen"),
    "survey.page.voluntary": (
        "Your consent is voluntary. You can withdraw it at any time with effect for the future, "
        "as easily as you gave it.",
        "Ihre Einwilligung ist freiwillig. Sie können sie jederzeit mit Wirkung für die Zukunft "
        "widerrufen, so einfach, wie Sie sie erteilt haben.",
    ),
    "survey.page.privacy": ("Privacy policy", "Datenschutzerklärung"),
    "survey.page.granted": (
        "Thank you. Your consent has been recorded ({at}).",
        "Vielen Dank. Ihre Einwilligung wurde gespeichert ({at}).",
    ),
    "survey.page.declined": (
        "Thank you. We have recorded that you do not consent ({at}).",
        "Vielen Dank. Wir haben gespeichert, dass Sie nicht einwilligen ({at}).",
    ),
    "survey.page.withdraw_hint": (
        "You can withdraw your consent at any time with one click:",
        "Sie können Ihre Einwilligung jederzeit mit einem Klick widerrufen:",
    ),
    "survey.page.withdraw_link": ("Withdraw consent", "Einwilligung widerrufen"),
    "survey.page.withdraw_title": ("Withdraw your consent", "Einwilligung widerrufen"),
    "survey.page.withdraw_ask": (
        "Withdraw your consent to {controller}: {purpose}?",
        "Ihre Einwilligung gegenüber {controller} widerrufen: {purpose}?",
    ),
    "survey.page.withdraw_button": ("Withdraw", "Widerrufen"),
    "survey.page.withdrawn": (
        "Your consent has been withdrawn ({at}).",
        "Ihre Einwilligung wurde widerrufen ({at}).",
    ),
    "survey.page.error_title": ("This did not work", "Das hat nicht geklappt"),
    "survey.page.not_found": ("Page not found.", "Seite nicht gefunden."),
    "survey.page.method": ("This method is not allowed.", "Diese Methode ist nicht erlaubt."),
    "survey.page.failure": (
        "Something went wrong on our side. Nothing was recorded. Please try again later.",
        "Bei uns ist ein Fehler aufgetreten. Es wurde nichts gespeichert. Bitte versuchen Sie "
        "es später erneut.",
    ),
    "survey.page.language": ("Deutsch", "English"),
    # command line
    "survey.cli.sent": (
        "{count} request(s) for {purpose} started, {failed} could not be delivered",
        "{count} Anfrage(n) zu {purpose} gestartet, {failed} nicht zustellbar",
    ),
    "survey.cli.serving": (
        "Answer page on http://{host}:{port}/ (Ctrl+C stops)",
        "Antwortseite auf http://{host}:{port}/ (Strg+C beendet)",
    ),
    "survey.cli.imported": (
        "{count} answer(s) recorded, {skipped} line(s) skipped",
        "{count} Antwort(en) gespeichert, {skipped} Zeile(n) übersprungen",
    ),
}

register_messages(MESSAGES)

__all__ = ["MESSAGES"]
