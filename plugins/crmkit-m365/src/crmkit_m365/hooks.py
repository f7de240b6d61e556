"""The plugin module behind the ``crmkit`` entry point ``m365``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import crmkit
from crmkit_m365.provider import M365Provider

#: The one provider object (it finds each CRM's configuration when it syncs).
provider = M365Provider()


@crmkit.hookimpl
def crmkit_register_sync_providers(register: Callable[[str, Any], None]) -> None:
    """Register the ``m365`` provider (Microsoft Graph, one CRM folder per mailbox)."""
    register("m365", provider)
