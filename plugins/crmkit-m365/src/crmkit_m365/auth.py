"""Token providers: MSAL client credentials (the default) and a fixed token.

A token provider is any ``Callable[[], str]`` returning a bearer token for
``https://graph.microsoft.com/.default``.  :class:`MsalTokenProvider` wraps
``msal.ConfidentialClientApplication.acquire_token_for_client`` (which keeps
its own token cache).  The secret is held only by MSAL and never appears in
a ``repr``, a message or a log line.
"""

from __future__ import annotations

from typing import Any, Final

from crmkit.errors import CrmkitError
from crmkit_m365 import messages as _messages  # noqa: F401  (registers the codes)

GRAPH_SCOPE: Final = "https://graph.microsoft.com/.default"
AUTHORITY: Final = "https://login.microsoftonline.com"


class TokenError(CrmkitError):
    """Entra ID refused to issue a token (the error code and description, no secret)."""

    code = "m365.token"


class MsalTokenProvider:
    """Client-credentials tokens from Microsoft Entra ID through MSAL.

    :param tenant_id: the directory (tenant) id; not ``common``/``organizations``.
    :param client_id: the application (client) id of the app registration.
    :param secret: the client secret.
    :param authority: the authority base (tests: a TLS fake's origin).
    :param http_client: a ``requests.Session`` for MSAL (tests: ``verify=<CA>``).
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        secret: str,
        *,
        authority: str = AUTHORITY,
        http_client: Any = None,
    ) -> None:
        import msal

        options: dict[str, Any] = {}
        if http_client is not None:
            options["http_client"] = http_client
        if authority != AUTHORITY:
            options["instance_discovery"] = False
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=secret,
            authority=f"{authority.rstrip('/')}/{tenant_id}",
            **options,
        )
        self._stale: str | None = None

    def invalidate(self) -> None:
        """Forget the cached token (Graph said it expired): the next call gets a new one."""
        cache: Any = self._app.token_cache
        for entry in list(cache.search("AccessToken")):
            cache.remove_at(entry)

    def __call__(self) -> str:
        result = self._app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        if not isinstance(result, dict) or "access_token" not in result:
            error = (
                (result or {}).get("error", "unknown") if isinstance(result, dict) else "unknown"
            )
            detail = (result or {}).get("error_description", "") if isinstance(result, dict) else ""
            raise TokenError(error=error, detail=str(detail).split("\n")[0][:200])
        return str(result["access_token"])

    def __repr__(self) -> str:
        return f"MsalTokenProvider(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"


class StaticToken:
    """A fixed token, or a callable giving a fresh one on :meth:`invalidate` (tests)."""

    def __init__(self, issue: Any) -> None:
        self._issue = issue
        self._token: str | None = None

    def invalidate(self) -> None:
        """Forget the token."""
        self._token = None

    def __call__(self) -> str:
        if self._token is None:
            self._token = self._issue() if callable(self._issue) else str(self._issue)
        return self._token

    def __repr__(self) -> str:
        return "StaticToken(…)"


__all__ = ["AUTHORITY", "GRAPH_SCOPE", "MsalTokenProvider", "StaticToken", "TokenError"]
