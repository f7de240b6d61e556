"""SMTP with STARTTLS, implicit TLS and credentials against a real server on 127.0.0.1
(a certificate made with openssl for this test)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.crm import CRM
from crmkit_survey import SmtpConfig, Survey, configure
from crmkit_survey.testing import Inbox, free_port

pytest_plugins = ["crmkit_survey.fixtures"]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - Debian has it
        pytest.fail("openssl is needed to make the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"einwilligung",
        b"geheim-42",
    )
    return AuthResult(success=ok, handled=False)


@contextmanager
def tls_server(certificate: tuple[Path, Path], *, implicit: bool) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller as SmtpController

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    handler = Inbox()
    options: dict[str, Any] = (
        {"ssl_context": context} if implicit else {"tls_context": context, "require_starttls": True}
    )
    controller = SmtpController(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_require_tls=not implicit,  # aiosmtpd only knows STARTTLS as "TLS"
        server_hostname="127.0.0.1",
        **options,
    )
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


def _ask(crm: CRM, survey: Survey, smtp: SmtpConfig, mail: str) -> list[str]:
    configured = configure(crm, attrs.evolve(survey.config, smtp=smtp))
    contact = crm.contacts.add(crmkit.Person(last_name="Muster", emails=[mail]))
    configured.request(contact, "newsletter")
    return [
        f"{e.kind} {e.note}"
        for e in crm.consents.events(contact)
        if e.kind in ("sent", "send_failed")
    ]


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
def test_tls_with_credentials(
    crm: CRM, survey: Survey, certificate: tuple[Path, Path], implicit: bool
) -> None:
    with tls_server(certificate, implicit=implicit) as inbox:
        smtp = SmtpConfig(
            host="127.0.0.1",
            port=inbox.port,
            security="ssl" if implicit else "starttls",
            username="einwilligung",
            password="geheim-42",
            sender="einwilligung@muster.de",
            cafile=str(certificate[0]),
            timeout=10,
        )
        assert _ask(crm, survey, smtp, "erika@muster.de") == ["sent request"]
        assert len(inbox.to("erika@muster.de")) == 1
        wrong = attrs.evolve(smtp, password="falsch")
        [failed] = _ask(crm, survey, wrong, "max@muster.de")
        assert failed.startswith("send_failed request: SMTPAuthenticationError")
        unknown_ca = attrs.evolve(smtp, cafile=None)
        [failed] = _ask(crm, survey, unknown_ca, "eva@muster.de")
        assert "CERTIFICATE_VERIFY_FAILED" in failed or "SSLCertVerificationError" in failed
        assert inbox.to("max@muster.de") == [] and inbox.to("eva@muster.de") == []


def test_starttls_demanded_but_not_offered_sends_nothing(
    crm: CRM, survey: Survey, inbox: Inbox
) -> None:
    plain = attrs.evolve(survey.config.smtp, security="starttls")
    [failed] = _ask(crm, survey, plain, "erika@muster.de")
    assert failed.startswith("send_failed request: SMTPNotSupportedError")
    assert inbox.messages == []


def test_credentials_must_be_ascii() -> None:
    with pytest.raises(crmkit.ValidationError) as info:
        SmtpConfig(username="einwilligung", password="geheim-ä")
    assert info.value.findings[0].field == "smtp.password"
