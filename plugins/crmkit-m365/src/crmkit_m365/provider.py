"""The ``m365`` sync provider: one round per configured mailbox.

``crm.sync.run("m365")`` (or ``crmkit sync m365``) opens a Graph client
with the configured token provider (MSAL client credentials by default),
finds or creates each mailbox's CRM folder and runs
:meth:`crmkit.sync_api.Sync.round` with the configured filter and field
table.  The configuration comes from :func:`configure` or the TOML file
named by ``CRMKIT_M365_CONFIG``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from html import escape
from typing import Any

import attrs

from crmkit.errors import CrmkitError
from crmkit.sync_engine import SyncEvent, SyncReport
from crmkit_m365.auth import MsalTokenProvider
from crmkit_m365.book import PROVIDER, GraphBook
from crmkit_m365.config import CONFIG_VARIABLE, M365Config
from crmkit_m365.graph import GraphClient, GraphError, TokenProvider

_CONFIGS: weakref.WeakKeyDictionary[Any, M365Config] = weakref.WeakKeyDictionary()


def configure(crm: Any, config: M365Config) -> M365Config:
    """Use *config* for *crm*'s Microsoft 365 sync."""
    _CONFIGS[crm] = config
    return config


def config_for(crm: Any) -> M365Config:
    """The configuration for *crm*: :func:`configure`, else ``CRMKIT_M365_CONFIG``."""
    found = _CONFIGS.get(crm)
    if found is not None:
        return found
    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        detail = f"call crmkit_m365.configure(crm, config) or set {CONFIG_VARIABLE}"
        raise CrmkitError(code="m365.not_configured", detail=detail)
    return configure(crm, M365Config.from_toml(path))


@attrs.define
class M365Report:
    """The reports of one sync run, one per mailbox, and the Graph request counts."""

    reports: list[SyncReport] = attrs.field(factory=list)
    stats: dict[str, int] = attrs.field(factory=dict)

    def total(self, name: str) -> int:
        """A counter summed over the mailboxes (``created_remote`` …)."""
        return sum(r.counts()[name] for r in self.reports)

    def lines(self, lang: str = "en") -> list[str]:
        """Per mailbox its summary, then the request counts."""
        out = [r.summary("de" if lang == "de" else "en") for r in self.reports]
        if self.stats:
            out.append(", ".join(f"{k} {v}" for k, v in sorted(self.stats.items())))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        parts = [r._repr_html_() for r in self.reports]
        if self.stats:
            stats = ", ".join(f"{k} {v}" for k, v in sorted(self.stats.items()))
            parts.append(f"<p>{escape(stats)}</p>")
        return "".join(parts)


class M365Provider:
    """The ``m365`` :class:`crmkit.sync.SyncProvider` (see the module docstring).

    :param token_provider: overrides MSAL (tests pass a fake's tokens).
    :param client_options: passed to :class:`crmkit_m365.graph.GraphClient`.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        token_provider: TokenProvider | None = None,
        page_size: int = 50,
        **client_options: Any,
    ) -> None:
        self.token_provider = token_provider
        self.page_size = page_size
        self.client_options = client_options
        self.last_client: GraphClient | None = None

    def client(self, config: M365Config) -> GraphClient:
        """A Graph client for *config*."""
        tokens = self.token_provider or MsalTokenProvider(
            config.tenant_id, config.client_id, config.secret, authority=config.authority
        )
        options = {"base_url": config.base_url, **self.client_options}
        return GraphClient(tokens, **options)

    def sync(
        self,
        crm: Any,
        *,
        dry_run: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> M365Report:
        """One round for every configured mailbox; returns an :class:`M365Report`."""
        config = config_for(crm)
        client = self.client(config)
        self.last_client = client
        out = M365Report()
        try:
            for mailbox in config.mailboxes:
                try:
                    book = GraphBook(client, mailbox, config.folder, page_size=self.page_size,
                                     create=not dry_run)  # fmt: skip
                    report = crm.sync.round(book, table=config.table, where=config.where,
                                            dry_run=dry_run, progress=progress)  # fmt: skip
                except GraphError as exc:
                    # One mailbox failing (no permission, gone) does not stop the others.
                    report = SyncReport(provider=PROVIDER, mailbox=mailbox, dry_run=dry_run,
                                        errors=1)  # fmt: skip
                    report.events.append(SyncEvent(what="error", detail=exc.message()))
                out.reports.append(report)
        finally:
            out.stats = dict(client.stats)
            client.close()
        return out


__all__ = ["M365Provider", "M365Report", "config_for", "configure"]
