"""The command line, and a sync killed in the middle (a real subprocess, SIGKILL) converging."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit
import crmkit_m365.hooks
from crmkit.cli import main
from crmkit_m365 import StaticToken
from crmkit_m365.book import NUMBER_PROPERTY
from crmkit_m365.testing import FakeGraph

MAILBOX = "vertrieb@müller-gmbh.de"

_SYNC = """
import os, sys
import crmkit, crmkit_m365.hooks
from crmkit_m365 import StaticToken
crmkit_m365.hooks.provider.token_provider = StaticToken(os.environ["FAKE_TOKEN"])
with crmkit.open(sys.argv[1]) as crm:
    print(crm.sync.run("m365"), flush=True)
"""


def _config(tmp_path: Path, fake: FakeGraph) -> Path:
    path = tmp_path / "m365.toml"
    path.write_text(
        f'tenant_id = "contoso"\nclient_id = "app"\nmailboxes = ["{MAILBOX}"]\n'
        f'base_url = "{fake.base_url}"\n[filter]\ntags = ["kunde"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        fake.add_mailbox(MAILBOX)
        monkeypatch.setenv("CRMKIT_M365_CONFIG", str(_config(tmp_path, fake)))
        monkeypatch.setenv("CRMKIT_M365_SECRET", "geheim-im-env")
        yield fake


def _seed(db: Path, n: int) -> None:
    with crmkit.open(f"sqlite:///{db}") as crm:
        crm.contacts.add_many(
            crmkit.Person(
                first_name="Anna",
                last_name=f"Kundin{i:04d}",
                tags={"kunde"},
                emails=[f"kundin{i}@beispiel.de"] if i % 10 else [],
            )
            for i in range(n)
        )


def test_crmkit_sync_m365_dry_run_then_for_real(
    env: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "crm.db"
    _seed(db, 20)
    monkeypatch.setattr(crmkit_m365.hooks.provider, "token_provider", StaticToken(env.issue_token))
    runner = CliRunner()
    dry = runner.invoke(main, ["--db", str(db), "--lang", "en", "sync", "m365", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "created remotely 18" in dry.output and "skipped without e-mail 2" in dry.output
    assert "(dry run)" in dry.output and env.contacts(MAILBOX) == []
    real = runner.invoke(main, ["--db", str(db), "--lang", "de", "sync", "m365"])
    assert real.exit_code == 0, real.output
    assert "entfernt angelegt 18" in real.output and "ohne E-Mail übersprungen 2" in real.output
    assert len(env.contacts(MAILBOX)) == 18
    assert "geheim-im-env" not in dry.output + real.output


def test_a_sync_killed_in_the_middle_converges_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeGraph(latency=0.25) as fake:
        fake.add_mailbox(MAILBOX)
        monkeypatch.setenv("CRMKIT_M365_CONFIG", str(_config(tmp_path, fake)))
        monkeypatch.setenv("CRMKIT_M365_SECRET", "geheim")
        db = tmp_path / "crm.db"
        _seed(db, 440)  # 396 with e-mail: 20 batches
        env = {**os.environ, "FAKE_TOKEN": fake.issue_token()}
        proc = subprocess.Popen(
            [sys.executable, "-c", _SYNC, f"sqlite:///{db}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while fake.count("POST", r"/\$batch$") < 5 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        created_before = len(fake.contacts(MAILBOX))
        assert 0 < created_before < 396  # killed in the middle, after some creates
        fake.latency = 0.0
        monkeypatch.setattr(
            crmkit_m365.hooks.provider, "token_provider", StaticToken(fake.issue_token)
        )
        with crmkit.open(f"sqlite:///{db}") as crm:
            # Requests in flight when the process died may still land after the
            # next round read the folder: that round's duplicates go in the one
            # after.  Once they all have landed, one more round settles
            # everything and the last one finds nothing to do.
            first = crm.sync.run("m365")
            assert fake.wait_idle()
            crm.sync.run("m365")
            last = crm.sync.run("m365")
            remote = fake.contacts(MAILBOX)
            numbers = [fake.extended(c["id"]).get(NUMBER_PROPERTY) for c in remote]
            assert len(remote) == 396 and len(set(numbers)) == 396
            links = crm.sync.links(status="ok")
            assert len(links) == 396 and len({lk.remote_id for lk in links}) == 396
            assert crm.contacts.count() == 440
            assert first.total("relinked") >= created_before
            assert first.total("created_crm") == 0 and crm.contacts.count() == 440
            changes = ("created_remote", "updated_remote", "deleted_remote", "created_crm",
                       "updated_crm", "errors")  # fmt: skip
            assert {name: last.total(name) for name in changes} == dict.fromkeys(changes, 0)


def test_an_unknown_provider_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "crm.db"), "--lang", "de", "sync", "gibtsnicht"]
    )
    assert result.exit_code != 0
    assert "gibtsnicht" in result.output and "m365" in result.output


def test_the_exit_status_is_1_when_a_mailbox_failed(
    env: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "two.toml"
    config.write_text(
        'tenant_id = "t"\nclient_id = "c"\nmailboxes = ["niemand@firma.de", "' + MAILBOX + '"]\n'
        f'base_url = "{env.base_url}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CRMKIT_M365_CONFIG", str(config))
    monkeypatch.setattr(crmkit_m365.hooks.provider, "token_provider", StaticToken(env.issue_token))
    db = tmp_path / "crm.db"
    _seed(db, 3)
    result = CliRunner().invoke(main, ["--db", str(db), "--lang", "en", "sync", "m365"])
    assert result.exit_code == 1
    assert "errors 1" in result.output and "created remotely 2" in result.output
