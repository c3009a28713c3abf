"""Graph settings and the credential behind them, read from app settings in one place.

    config = GraphConfig.from_env(os.environ)          # Azure: managed identity by default
    config = GraphConfig(base_url=emulator + "/v1.0", credential=StaticToken("local"))

Sharing the tenant's write quota (3,000 writes per 150 s per app and tenant) across Azure
instances: the design is a bounded instance count with the budget divided. Each process paces
itself to `write_budget` writes per window, which by default is 80% of the quota divided by
GRAPH_INSTANCE_COUNT; the deployment caps the Function App's maximumInstanceCount at that same
number (one worker process per instance), so all instances together stay inside the quota.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.graph.errors import GraphConfigError

GRAPH_BASE_URL = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
TENANT_WRITE_QUOTA = 3_000  # writes per app and tenant per window (Graph's identity limits)
TENANT_WRITE_WINDOW_SECONDS = 150.0
# Other apps and admins share the tenant's quota; leave them a fifth of it.
WRITE_QUOTA_SHARE = 0.8
DEFAULT_MAX_CONCURRENCY = 4
# A new group can 404 for seconds to minutes; a production sync waits up to five minutes.
DEFAULT_REPLICATION_WAIT_SECONDS = 300.0
STATIC_TOKEN_LIFETIME_SECONDS = 24 * 3600
AUTH_MODES = ("managed-identity", "secret", "certificate", "default", "static")


class StaticToken:
    """A fixed bearer token, for the local Graph emulator (which accepts any token)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + STATIC_TOKEN_LIFETIME_SECONDS)


def default_write_budget(instance_count: int) -> int:
    return max(1, int(TENANT_WRITE_QUOTA * WRITE_QUOTA_SHARE) // max(1, instance_count))


@dataclass(frozen=True)
class GraphConfig:
    """Where Graph is, how to authenticate, and how hard this process may push it.

    `credential` is anything with azure-identity's `get_token(*scopes)`, sync or async.
    """

    base_url: str = GRAPH_BASE_URL
    credential: Any = None
    scopes: tuple[str, ...] = (GRAPH_SCOPE,)
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    write_budget: int = field(default_factory=lambda: default_write_budget(1))
    write_window_seconds: float = TENANT_WRITE_WINDOW_SECONDS
    replication_wait_seconds: float = DEFAULT_REPLICATION_WAIT_SECONDS
    max_attempts: int = 6
    max_retry_wait_seconds: float = 120.0
    request_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.credential is None:
            raise GraphConfigError(
                "GraphConfig needs a credential: pass one, or build the config with "
                "GraphConfig.from_env(os.environ)"
            )
        if self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.max_concurrency < 1 or self.write_budget < 1 or self.max_attempts < 1:
            raise GraphConfigError(
                "max_concurrency, write_budget and max_attempts must be at least 1"
            )

    @property
    def service_root(self) -> str:
        """scheme://host of base_url, which is how Graph writes absolute @odata.nextLink urls."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GraphConfig:
        """Read GRAPH_* and AZURE_* settings. GRAPH_AUTH picks the credential; without it a
        GRAPH_TOKEN means static, a client secret or certificate means that, and otherwise
        DefaultAzureCredential (managed identity in Azure, the developer's login locally)."""
        base_url = env.get("GRAPH_BASE_URL", GRAPH_BASE_URL)
        instance_count = _int(env, "GRAPH_INSTANCE_COUNT", 1)
        budget = _int(env, "GRAPH_WRITE_BUDGET", default_write_budget(instance_count))
        return cls(
            base_url=base_url,
            credential=build_credential(env),
            scopes=(env.get("GRAPH_SCOPE", GRAPH_SCOPE),),
            max_concurrency=_int(env, "GRAPH_MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY),
            write_budget=budget,
            write_window_seconds=_float(
                env, "GRAPH_WRITE_WINDOW_SECONDS", TENANT_WRITE_WINDOW_SECONDS
            ),
            replication_wait_seconds=_float(
                env, "GRAPH_REPLICATION_WAIT_SECONDS", DEFAULT_REPLICATION_WAIT_SECONDS
            ),
        )


def build_credential(env: Mapping[str, str]) -> Any:
    """The azure-identity credential named by GRAPH_AUTH. Sync credentials on purpose: an async
    one holds an aiohttp session tied to the event loop that first used it and must be closed,
    while a gateway may be built on any loop (one per invocation); the gateway fetches a token
    with the sync credential in a worker thread about once an hour."""
    mode = env.get("GRAPH_AUTH", "").strip().lower() or _guess_auth_mode(env)
    if mode not in AUTH_MODES:
        raise GraphConfigError(f"GRAPH_AUTH={mode!r} is not one of {', '.join(AUTH_MODES)}")
    if mode == "static":
        return StaticToken(_required(env, "GRAPH_TOKEN", "GRAPH_AUTH=static"))

    import azure.identity as identity

    client_id = env.get("AZURE_CLIENT_ID") or None
    if mode == "managed-identity":
        return identity.ManagedIdentityCredential(client_id=client_id)
    if mode == "default":
        return identity.DefaultAzureCredential(managed_identity_client_id=client_id)
    tenant_id = _required(env, "AZURE_TENANT_ID", f"GRAPH_AUTH={mode}")
    client_id = _required(env, "AZURE_CLIENT_ID", f"GRAPH_AUTH={mode}")
    if mode == "secret":
        secret = _required(env, "AZURE_CLIENT_SECRET", "GRAPH_AUTH=secret")
        return identity.ClientSecretCredential(tenant_id, client_id, secret)
    path = _required(env, "AZURE_CLIENT_CERTIFICATE_PATH", "GRAPH_AUTH=certificate")
    return identity.CertificateCredential(tenant_id, client_id, certificate_path=path)


def _guess_auth_mode(env: Mapping[str, str]) -> str:
    if env.get("GRAPH_TOKEN"):
        return "static"
    if env.get("AZURE_CLIENT_SECRET"):
        return "secret"
    if env.get("AZURE_CLIENT_CERTIFICATE_PATH"):
        return "certificate"
    return "default"


def _required(env: Mapping[str, str], name: str, because: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise GraphConfigError(
            f"{because} needs the app setting {name}; set it or change GRAPH_AUTH"
        )
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise GraphConfigError(f"app setting {name}={raw!r} must be a whole number") from None
    if value < 1:
        raise GraphConfigError(f"app setting {name}={raw!r} must be at least 1")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise GraphConfigError(f"app setting {name}={raw!r} must be a number of seconds") from None
    if value <= 0:
        raise GraphConfigError(f"app setting {name}={raw!r} must be more than 0")
    return value
