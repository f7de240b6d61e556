"""Microsoft 365 sync of many contacts against the fake Graph (figures in docs/performance.md).

``python -m bench.m365_sync --size 10000`` prints JSON: for the first round
(every contact created in Outlook), an incremental round after 1 % of the
contacts changed on each side, a round with nothing to do, and a round with
throttling injected (429 with ``Retry-After: 0`` on 2 % of the requests):
wall time, Graph requests, batches, retries.  SQLite store in a temporary
directory, the fake on 127.0.0.1 without latency, waits not slept.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

import crmkit
from crmkit_m365 import M365Config, M365Provider, StaticToken, configure
from crmkit_m365.testing import FakeGraph

MAILBOX = "vertrieb@beispiel-gmbh.de"


def _round(crm: crmkit.CRM, provider: M365Provider, fake: FakeGraph) -> dict[str, Any]:
    before = len(fake.requests)
    start = time.perf_counter()
    report = provider.sync(crm)
    seconds = time.perf_counter() - start
    (one,) = report.reports
    return {
        "seconds": round(seconds, 2),
        "graph_requests": report.stats["requests"],
        "batches": report.stats["batches"],
        "retries": report.stats["retries"],
        "requests_seen_by_fake": len(fake.requests) - before,
        **{k: v for k, v in one.counts().items() if v},
    }


def run(size: int, directory: Path, *, seed: int = 7) -> dict[str, Any]:
    """Seed *size* contacts, run the four rounds, return the figures."""
    rng = random.Random(seed)
    with FakeGraph(page_size=50) as fake, crmkit.open(f"sqlite:///{directory}/m365.db") as crm:
        fake.add_mailbox(MAILBOX)
        crm.contacts.add_many(
            crmkit.Person(first_name="Anna", last_name=f"Kundin{i:06d}", tags={"kunde"},
                          emails=[f"kundin{i}@beispiel.de"], phones=[f"+49 711 {100000 + i}"])
            for i in range(size)
        )  # fmt: skip
        configure(crm, M365Config(tenant_id="t", client_id="c", secret="s",
                                  mailboxes=[MAILBOX], base_url=fake.base_url))  # fmt: skip
        provider = M365Provider(token_provider=StaticToken(fake.issue_token),
                                sleep=lambda s: None)  # fmt: skip
        out: dict[str, Any] = {"size": size, "first": _round(crm, provider, fake)}
        links = crm.sync.links()
        changed = rng.sample(links, max(1, size // 50))
        half = len(changed) // 2
        for link in changed[:half]:
            assert link.remote_id is not None
            fake.external_edit(link.remote_id, jobTitle="Einkauf", mobilePhone="+49 170 1234567")
        for link in changed[half:]:
            contact: Any = crm.contacts.get(link.contact_id)
            crm.contacts.update(attrs.evolve(contact, title="Dr."))
        out["incremental"] = _round(crm, provider, fake)
        out["nothing"] = _round(crm, provider, fake)
        for link in rng.sample(links, max(1, size // 50)):
            person: Any = crm.contacts.get(link.contact_id)
            crm.contacts.update(attrs.evolve(person, title="Prof."))
        fake.throttle(max(1, out["incremental"]["graph_requests"] // 50), retry_after=0)
        out["throttled"] = _round(crm, provider, fake)
        out["remote_contacts"] = len(fake.contacts(MAILBOX))
        return out


def main() -> None:
    """Command line: ``--size N``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(args.size, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
