"""Graph settings from app settings: credential choice, budget division, clear errors."""

from __future__ import annotations

import pytest

from shared.graph import GraphConfig, GraphConfigError, StaticToken
from shared.graph.config import TENANT_WRITE_QUOTA


def test_a_static_token_points_the_gateway_at_the_emulator():
    env = {"GRAPH_BASE_URL": "http://127.0.0.1:9999/v1.0/", "GRAPH_TOKEN": "local"}

    config = GraphConfig.from_env(env)

    assert isinstance(config.credential, StaticToken)
    assert config.credential.get_token("scope").token == "local"
    assert config.base_url == "http://127.0.0.1:9999/v1.0"


def test_the_write_budget_is_divided_between_instances_and_stays_inside_the_quota():
    one = GraphConfig.from_env({"GRAPH_TOKEN": "t"})
    four = GraphConfig.from_env({"GRAPH_TOKEN": "t", "GRAPH_INSTANCE_COUNT": "4"})

    assert one.write_budget < TENANT_WRITE_QUOTA
    assert four.write_budget * 4 <= one.write_budget
    assert four.write_window_seconds == 150.0


def test_an_explicit_write_budget_wins():
    config = GraphConfig.from_env({"GRAPH_TOKEN": "t", "GRAPH_WRITE_BUDGET": "120"})

    assert config.write_budget == 120


def test_a_client_secret_without_a_tenant_names_the_missing_setting():
    env = {"GRAPH_AUTH": "secret", "AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "s"}

    with pytest.raises(GraphConfigError, match="AZURE_TENANT_ID"):
        GraphConfig.from_env(env)


def test_a_client_secret_builds_azure_identitys_credential():
    env = {"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "s"}

    config = GraphConfig.from_env(env)

    assert type(config.credential).__name__ == "ClientSecretCredential"


def test_an_unknown_auth_mode_is_refused():
    with pytest.raises(GraphConfigError, match="GRAPH_AUTH"):
        GraphConfig.from_env({"GRAPH_AUTH": "password"})


def test_a_malformed_number_names_the_setting():
    with pytest.raises(GraphConfigError, match="GRAPH_INSTANCE_COUNT"):
        GraphConfig.from_env({"GRAPH_TOKEN": "t", "GRAPH_INSTANCE_COUNT": "two"})
