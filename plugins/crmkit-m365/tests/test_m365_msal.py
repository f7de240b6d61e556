"""MSAL client credentials against the fake Graph in TLS mode (trustme), end to end."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import httpx
import pytest
import requests
import trustme

from crmkit_m365 import GraphBook, GraphClient, MsalTokenProvider
from crmkit_m365.auth import TokenError
from crmkit_m365.testing import FakeGraph

MAILBOX = "anna.schmidt@müller-gmbh.de"


def _session(ca_path: Path) -> requests.Session:
    # REQUESTS_CA_BUNDLE would override Session.verify: trust_env off.
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_path)
    return session


def test_msal_gets_refreshes_and_refuses_tokens_from_the_fake_authority(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ca = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    with FakeGraph(tls=ca, client_secret="richtig-geheim") as fake:
        fake.add_mailbox(MAILBOX)
        assert fake.base_url.startswith("https://127.0.0.1:")
        tokens = MsalTokenProvider(
            "contoso",
            "app-id",
            "richtig-geheim",
            authority=fake.origin,
            http_client=_session(ca_path),
        )
        first = tokens()
        assert tokens() == first and fake.tokens_issued == 1  # MSAL's cache
        assert "richtig-geheim" not in repr(tokens)
        http = httpx.Client(verify=ssl.create_default_context(cafile=str(ca_path)), trust_env=False)
        client = GraphClient(tokens, base_url=fake.base_url, http=http)
        book = GraphBook(client, MAILBOX)
        assert fake.folder_id(MAILBOX, "CRM") == book.folder
        fake.expire_tokens()
        assert book.changes(None).full
        assert fake.tokens_issued == 2 and client.stats["refreshes"] == 1
        client.close()
        wrong = MsalTokenProvider(
            "contoso",
            "app-id",
            "falsch-geheim",
            authority=fake.origin,
            http_client=_session(ca_path),
        )
        with pytest.raises(TokenError) as err:
            wrong()
        assert "invalid_client" in str(err.value) and "falsch-geheim" not in str(err.value)
        assert "invalid_client" in err.value.message("de")
    logged = caplog.text
    assert "richtig-geheim" not in logged and "falsch-geheim" not in logged
    assert first not in logged  # no bearer token in any log line (httpx, msal, ours)
