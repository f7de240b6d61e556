"""Arbitrary requests to the answer app: a page with a 2xx/4xx status, never a trace, never
an unescaped echo, never a recorded answer without the form."""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

import crmkit
from crmkit_survey import Survey, configure
from crmkit_survey.config import Controller, SurveyConfig
from crmkit_survey.testing import SECRET, TEXT

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


@cache
def _survey() -> tuple[Survey, str, str]:
    """One CRM (memory store) with one open request; the link token and the contact id."""
    crm = crmkit.open("memory://", clock=lambda: NOW)
    config = SurveyConfig(
        secret=SECRET,
        base_url="http://127.0.0.1:9",
        controller=Controller(name="Muster GmbH"),
        texts=(TEXT,),
    )
    survey = configure(crm, config)
    erika = crm.contacts.add(crmkit.Person(last_name="Muster", emails=["erika@muster.de"]))
    [requested] = crm.consents.request(erika, "newsletter", text=TEXT.de, text_version=TEXT.version)
    claims = survey.claims(requested, TEXT.version)
    return survey, survey.link(claims).rsplit("/", 1)[1], erika.id


def _call(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[str, str]:
    survey = _survey()[0]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": headers.pop("query", ""),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
        **{f"HTTP_{k}": v for k, v in headers.items()},
    }
    seen: list[str] = []
    out = b"".join(survey.app()(environ, lambda status, hdrs: seen.append(status)))
    return seen[0], out.decode("utf-8")


@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get", ""]),
    path=st.one_of(st.text(max_size=300), st.builds(lambda t: f"/a/{t}", st.text(max_size=300))),
    body=st.binary(max_size=600),
    agent=st.text(max_size=200),
    query=st.text(max_size=100),
)
@example(method="POST", path="/a/", body=b"answer=granted", agent="", query="")
@example(method="GET", path="/a/<script>alert(1)</script>", body=b"", agent="", query="lang=en")
@example(method="POST", path="/w/x.y", body=b"csrf=1.2.3&answer=withdrawn", agent="<b>", query="")
def test_arbitrary_requests(method: str, path: str, body: bytes, agent: str, query: str) -> None:
    status, page = _call(method, path, body, {"USER_AGENT": agent, "query": query})
    assert status[:3] in {"200", "400", "403", "404", "405", "409", "410", "413"}, status
    assert "Traceback" not in page
    for hostile in (path, agent, query):
        if "<" in hostile and len(hostile) > 3:
            assert hostile not in page


@given(body=st.binary(max_size=400), agent=st.text(max_size=100))
def test_a_valid_link_without_a_valid_form_records_nothing(body: bytes, agent: str) -> None:
    survey, token, contact_id = _survey()
    status, _ = _call("POST", f"/a/{token}", body, {"USER_AGENT": agent})
    assert status[:3] in {"400", "403", "413"}
    kinds = [e.kind for e in survey.crm.consents.events(contact_id)]
    assert "granted" not in kinds and "declined" not in kinds
