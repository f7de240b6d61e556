"""The plugin's messages in English and German (registered with the core catalogue)."""

from __future__ import annotations

from typing import Final

from crmkit.messages import register_messages

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "m365.graph": (
        "Microsoft Graph answered {status} {graph_code} to {request}: {detail}",
        "Microsoft Graph antwortete {status} {graph_code} auf {request}: {detail}",
    ),
    "m365.token": (
        "no access token from Microsoft Entra ID: {error} ({detail})",
        "kein Zugriffstoken von Microsoft Entra ID: {error} ({detail})",
    ),
    "m365.not_configured": (
        "Microsoft 365 sync is not configured: {detail}",
        "Die Microsoft-365-Synchronisierung ist nicht eingerichtet: {detail}",
    ),
}

register_messages(MESSAGES)
