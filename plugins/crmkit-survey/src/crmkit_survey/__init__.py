"""crmkit-survey: double-opt-in consent requests whose answers stand up as proof.

>>> import crmkit_survey
>>> sorted(crmkit_survey.__all__)[:3]
['ConsentText', 'Controller', 'MailTemplate']

Configure a CRM with :func:`configure`, ask with :meth:`Survey.request`
(or ``crm.consents.request(..., provider="survey")``), let
``crm.consents.run_schedule(provider="survey")`` send the reminders, and
serve :meth:`Survey.app` (a WSGI app) where the links point.  See
``docs/survey.md``.
"""

from __future__ import annotations

from crmkit_survey import messages as _messages  # noqa: F401  (registers the codes)
from crmkit_survey.config import (
    ConsentText,
    Controller,
    MailTemplate,
    SmtpConfig,
    SurveyConfig,
    default_language,
)
from crmkit_survey.importer import ImportResult, import_answers
from crmkit_survey.report import SurveyReport, report
from crmkit_survey.survey import Survey, configure, mail_sha256, survey_for
from crmkit_survey.tokens import Claims, TokenError
from crmkit_survey.web import SurveyApp, make_survey_server, serve_in_thread

__all__ = [
    "Claims",
    "ConsentText",
    "Controller",
    "ImportResult",
    "MailTemplate",
    "SmtpConfig",
    "Survey",
    "SurveyApp",
    "SurveyConfig",
    "SurveyReport",
    "TokenError",
    "configure",
    "default_language",
    "import_answers",
    "mail_sha256",
    "make_survey_server",
    "report",
    "serve_in_thread",
    "survey_for",
]
