"""The Graph gateway: everything the sync says to Microsoft Graph goes through here, batched,
paced under the tenant's write quota, and retried the way Graph asks.

    async with GraphGateway(GraphConfig.from_env(os.environ)) as graph:
        users = await graph.find_users("userPrincipalName", upns)
"""

from shared.graph.config import GraphConfig, StaticToken
from shared.graph.errors import (
    GraphConfigError,
    GraphError,
    GraphUnavailable,
    NicknameTaken,
    UniqueNameTaken,
)
from shared.graph.gateway import GraphGateway
from shared.graph.models import (
    EnsuredGroup,
    GatewayStats,
    GroupSpec,
    ItemFailure,
    Membership,
    MembershipChange,
)

__all__ = [
    "EnsuredGroup",
    "GatewayStats",
    "GraphConfig",
    "GraphConfigError",
    "GraphError",
    "GraphGateway",
    "GraphUnavailable",
    "GroupSpec",
    "ItemFailure",
    "Membership",
    "MembershipChange",
    "NicknameTaken",
    "StaticToken",
    "UniqueNameTaken",
]
