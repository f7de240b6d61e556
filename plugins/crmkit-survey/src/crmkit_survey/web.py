"""The answer page: a dependency-free WSGI app, mountable anywhere, runnable stand-alone.

Routes (relative to where the app is mounted):

* ``GET /a/<token>`` — who asks, the exact consent text, "Zustimmen" /
  "Ablehnen" (English: "Agree" / "Decline").  GET never changes anything,
  so link scanners in mail systems cannot answer for anyone.
* ``POST /a/<token>`` — the answer, with a CSRF token bound to the link;
  the confirmation page carries the one-click withdrawal link.
* ``GET /w/<token>`` and ``POST /w/<token>`` — withdrawal, the same way.

Invalid, expired and used links get a friendly page with a 4xx status;
an unexpected error gets a 500 page without details (logged, never shown).
Every value on a page is HTML-escaped; responses forbid caching, framing,
scripts and referrers (the token is in the URL).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from html import escape
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from crmkit.messages import Lang, render
from crmkit_survey.tokens import Action, TokenError, check_csrf, csrf_token

if TYPE_CHECKING:  # pragma: no cover
    from crmkit_survey.survey import Pending, Survey

logger = logging.getLogger("crmkit_survey.web")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
#: The largest form body accepted.
MAX_BODY: Final = 8192
_STATUS: Final = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    410: "410 Gone",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
}
_ERROR_STATUS: Final = {
    "survey.token.invalid": 404,
    "survey.token.expired": 410,
    "survey.token.used": 409,
    "survey.csrf.invalid": 403,
}
_HEADERS: Final = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
     "frame-ancestors 'none'; base-uri 'none'"),
]  # fmt: skip
_CSS: Final = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1d;line-height:1.5}
blockquote{border-left:4px solid #3a6ea5;margin:1rem 0;padding:.5rem 1rem;background:#f3f6fa}
.buttons{display:flex;gap:1rem;margin:1.5rem 0}
button{font-size:1.1rem;padding:.6rem 1.6rem;border:2px solid #3a6ea5;border-radius:.4rem;
background:#fff;color:#1d1d1d;cursor:pointer}
small,footer{color:#555}footer{margin-top:2rem;border-top:1px solid #ddd;padding-top:.5rem}
"""


def _mask(address: str | None) -> str:
    if not address or "@" not in address:
        return ""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def _paragraphs(text: str) -> str:
    return "<br>\n".join(escape(line) for line in text.splitlines())


def _safe_url(url: str) -> str | None:
    return url if urlsplit(url).scheme in ("http", "https") else None


class SurveyApp:
    """The WSGI answer app of one :class:`crmkit_survey.Survey`."""

    def __init__(self, survey: Survey) -> None:
        self.survey = survey

    # -- WSGI --------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""
        headers = list(_HEADERS)
        try:
            status, body = self._route(environ, headers)
        except Exception:
            logger.exception("the answer page failed")
            lang = self._lang(environ, None)
            status, body = 500, self._error(lang, "survey.page.failure")
        data = body.encode("utf-8")
        headers.append(("Content-Length", str(len(data))))
        start_response(_STATUS[status], headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]

    def _route(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> tuple[int, str]:
        method = environ.get("REQUEST_METHOD", "GET")
        parts = str(environ.get("PATH_INFO", "")).strip("/").split("/")
        if len(parts) != 2 or parts[0] not in ("a", "w"):
            return 404, self._error(self._lang(environ, None), "survey.page.not_found")
        action: Action = "answer" if parts[0] == "a" else "withdraw"
        token = parts[1]
        if method in ("GET", "HEAD"):
            return self._show(environ, token, action)
        if method == "POST":
            return self._post(environ, token, action)
        headers.append(("Allow", "GET, HEAD, POST"))
        return 405, self._error(self._lang(environ, None), "survey.page.method")

    # -- helpers -----------------------------------------------------------------------
    def _lang(self, environ: dict[str, Any], pending: Pending | None) -> Lang:
        query = parse_qs(str(environ.get("QUERY_STRING", "")), max_num_fields=5)
        chosen = (query.get("lang") or [""])[0]
        if chosen in ("de", "en"):
            return "de" if chosen == "de" else "en"
        if pending is not None:
            return pending.lang
        accept = str(environ.get("HTTP_ACCEPT_LANGUAGE", "")).strip().lower()
        return "en" if accept.startswith("en") else "de"

    def _refusal(self, environ: dict[str, Any], exc: TokenError) -> tuple[int, str]:
        lang = self._lang(environ, None)
        status = _ERROR_STATUS.get(exc.code, 400)
        return status, self._error(lang, exc.code)

    def _form(self, environ: dict[str, Any]) -> dict[str, str] | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return None
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            fields = parse_qs(raw.decode("utf-8"), max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            return {}
        return {k: v[0] for k, v in fields.items() if v}

    def _ip(self, environ: dict[str, Any]) -> str | None:
        if self.survey.config.trust_forwarded_for:
            forwarded = str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",")[0].strip()
            if forwarded:
                return forwarded
        return str(environ.get("REMOTE_ADDR") or "") or None

    def _when(self, at: dt.datetime) -> str:
        crm = self.survey.crm
        return at.astimezone(crm.zone).strftime("%d.%m.%Y %H:%M %Z")

    # -- pages -------------------------------------------------------------------------
    def _show(self, environ: dict[str, Any], token: str, action: Action) -> tuple[int, str]:
        survey = self.survey
        try:
            pending = survey.check(token, action)
        except TokenError as exc:
            return self._refusal(environ, exc)
        lang = self._lang(environ, pending)
        config = survey.config
        csrf = csrf_token(config.secret, token, now=survey.crm.now())
        controller = escape(config.controller.name)
        purpose = escape(pending.text.label(lang))
        hidden = (f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                  f'<input type="hidden" name="lang" value="{lang}">')  # fmt: skip
        asks = render("survey.page.asks", lang, controller=controller, purpose=purpose)
        if action == "answer":
            whom = render("survey.page.for", lang, name=escape(pending.contact.display_name),
                          address=escape(_mask(pending.address) or "—"))  # fmt: skip
            heading = render("survey.page.text", lang, version=pending.text.version)
            title = render("survey.page.title", lang)
            body = (
                f"<h1>{escape(title)}</h1>\n"
                f'<p class="asks">{asks}</p>\n'
                f'<p class="for">{whom}</p>\n'
                f"<h2>{escape(heading)}</h2>\n"
                f'<blockquote id="consent-text">{_paragraphs(pending.text.text(lang))}'
                "</blockquote>\n"
                f'<form method="post">{hidden}<div class="buttons">'
                f'<button type="submit" name="answer" value="granted">'
                f"{escape(render('survey.page.grant', lang))}</button>"
                f'<button type="submit" name="answer" value="declined">'
                f"{escape(render('survey.page.decline', lang))}</button></div></form>\n"
                f"<p><small>{escape(render('survey.page.voluntary', lang))}</small></p>"
            )
        else:
            title = render("survey.page.withdraw_title", lang)
            ask = render("survey.page.withdraw_ask", lang, controller=controller, purpose=purpose)
            body = (
                f"<h1>{escape(title)}</h1>\n<p>{ask}</p>\n"
                f'<form method="post">{hidden}<div class="buttons">'
                f'<button type="submit" name="answer" value="withdrawn">'
                f"{escape(render('survey.page.withdraw_button', lang))}</button></div></form>"
            )
        return 200, self._page(lang, title, body, switch=True)

    def _post(self, environ: dict[str, Any], token: str, action: Action) -> tuple[int, str]:
        survey = self.survey
        form = self._form(environ)
        if form is None:
            return 413, self._error(self._lang(environ, None), "survey.csrf.invalid")
        try:
            check_csrf(survey.config.secret, token, form.get("csrf"), now=survey.crm.now(),
                       max_age=survey.config.csrf_max_age_seconds)  # fmt: skip
        except TokenError as exc:
            return self._refusal(environ, exc)
        chosen = form.get("lang")
        lang: Lang | None = "de" if chosen == "de" else "en" if chosen == "en" else None
        answer = form.get("answer", "")
        agent = str(environ.get("HTTP_USER_AGENT", "")) or None
        proof = {"lang": lang, "ip": self._ip(environ), "user_agent": agent}
        try:
            if action == "answer":
                if answer not in ("granted", "declined"):
                    return 400, self._error(lang or "de", "survey.csrf.invalid")
                event, pending = survey.answer(token, answer, **proof)  # type: ignore[arg-type]
            else:
                event, pending = survey.withdraw(token, **proof)  # type: ignore[arg-type]
        except TokenError as exc:
            return self._refusal(environ, exc)
        lang = lang or pending.lang
        when = self._when(event.at)
        message = escape(render(f"survey.page.{event.kind}", lang, at=when))
        body = f'<h1>{escape(render("survey.page.title", lang))}</h1>\n<p id="result">{message}</p>'
        if event.kind == "granted":
            link = escape(survey.withdraw_link(pending), quote=True)
            body += (f"\n<p>{escape(render('survey.page.withdraw_hint', lang))} "
                     f'<a id="withdraw" href="{link}">'
                     f"{escape(render('survey.page.withdraw_link', lang))}</a></p>")  # fmt: skip
        return 200, self._page(lang, render("survey.page.title", lang), body)

    def _error(self, lang: Lang, code: str) -> str:
        controller = self.survey.config.controller.line()
        title = render("survey.page.error_title", lang)
        text = escape(render(code, lang, controller=controller))
        return self._page(lang, title, f'<h1>{escape(title)}</h1>\n<p id="error">{text}</p>')

    def _page(self, lang: Lang, title: str, body: str, *, switch: bool = False) -> str:
        controller = self.survey.config.controller
        footer = escape(controller.line())
        privacy = _safe_url(controller.privacy_url)
        if privacy:
            footer += (f' · <a href="{escape(privacy, quote=True)}">'
                       f"{escape(render('survey.page.privacy', lang))}</a>")  # fmt: skip
        if switch:
            other = "en" if lang == "de" else "de"
            footer += (
                f' · <a href="?lang={other}">{escape(render("survey.page.language", lang))}</a>'
            )
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex, nofollow">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n"
            f"<footer>{footer}</footer>\n</body></html>\n"
        )


class _Handler(WSGIRequestHandler):
    """Logs method and status only: the path holds a personal token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.info("%s %s", self.command, code)


class ThreadingServer(ThreadingMixIn, WSGIServer):
    """A WSGI server answering each request in its own thread."""

    daemon_threads = True


def make_survey_server(app: Any, host: str = "127.0.0.1", port: int = 8025) -> ThreadingServer:
    """A threaded HTTP server for *app* on *host*:*port* (port 0: any free port)."""
    server = make_server(host, port, app, server_class=ThreadingServer, handler_class=_Handler)
    assert isinstance(server, ThreadingServer)
    return server


def serve_in_thread(server: ThreadingServer) -> threading.Thread:
    """Run *server* in a daemon thread (stop it with ``server.shutdown()``)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="crmkit-survey", daemon=True)  # fmt: skip
    thread.start()
    return thread


__all__ = ["SurveyApp", "ThreadingServer", "make_survey_server", "serve_in_thread"]
