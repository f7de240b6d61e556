"""crmkit-m365: Microsoft 365 contact sync over Microsoft Graph.

See ``docs/m365.md``.  The pieces: :mod:`crmkit_m365.graph` (the Graph
client), :mod:`crmkit_m365.book` (one mailbox's CRM folder as a remote
book), :mod:`crmkit_m365.auth` (MSAL client credentials),
:mod:`crmkit_m365.config`, :mod:`crmkit_m365.provider` and the fake Graph
server in :mod:`crmkit_m365.testing`.
"""

from __future__ import annotations

from crmkit_m365 import messages as _messages  # noqa: F401  (registers the codes)
from crmkit_m365.auth import MsalTokenProvider, StaticToken
from crmkit_m365.book import GraphBook
from crmkit_m365.config import M365Config
from crmkit_m365.graph import GraphClient, GraphError
from crmkit_m365.provider import M365Provider, M365Report, configure

__all__ = [
    "GraphBook",
    "GraphClient",
    "GraphError",
    "M365Config",
    "M365Provider",
    "M365Report",
    "MsalTokenProvider",
    "StaticToken",
    "configure",
]
