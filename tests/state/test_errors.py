"""Storage that is missing, malformed, unreachable or not set up fails with a message that
names the setting or step to fix."""

from __future__ import annotations

import time

import pytest

from local.services import free_port
from shared.state import (
    ExportStore,
    StateStore,
    StorageLocation,
    StorageNotConfigured,
    StorageUnavailable,
)
from shared.state import connection as settings


def test_no_storage_setting_names_the_settings_to_set():
    with pytest.raises(StorageNotConfigured, match="STATE_STORAGE_CONNECTION") as caught:
        StateStore.from_env({})

    assert "STATE_TABLE_URL" in str(caught.value)


def test_malformed_connection_string_names_its_setting():
    with pytest.raises(StorageNotConfigured, match="STATE_STORAGE_CONNECTION is not a valid"):
        StateStore.from_env({"STATE_STORAGE_CONNECTION": "AccountName=x;no-endpoints"})


def test_state_connection_setting_wins_over_the_host_storage(azurite):
    env = {
        "STATE_STORAGE_CONNECTION": azurite.connection_string,
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    }

    location = StorageLocation.from_env(env)

    assert location.setting == "STATE_STORAGE_CONNECTION"


def test_account_urls_select_the_managed_identity():
    env = {
        "STATE_TABLE_URL": "https://acct.table.core.windows.net",
        "STATE_BLOB_URL": "https://acct.blob.core.windows.net",
    }

    location = StorageLocation.from_env(env)

    assert location.connection_string is None
    assert location.table_url == env["STATE_TABLE_URL"]


def test_host_account_name_gives_both_account_urls():
    location = StorageLocation.from_env({"AzureWebJobsStorage__accountName": "acct"})

    assert location.blob_url == "https://acct.blob.core.windows.net"
    assert location.table_url == "https://acct.table.core.windows.net"


def test_table_prefix_that_table_storage_would_refuse_is_rejected(azurite):
    with pytest.raises(ValueError, match="STATE_TABLE_PREFIX"):
        StateStore(azurite.connection_string, table_prefix="my-prefix")


def test_unreachable_storage_names_the_setting_and_fails_fast(azurite, monkeypatch):
    monkeypatch.setattr(settings, "STORAGE_RETRIES", 0)
    dead = azurite.connection_string.replace(str(azurite.ports["table"]), str(free_port()))
    store = StateStore.from_env({"STATE_STORAGE_CONNECTION": dead})
    started = time.monotonic()

    with pytest.raises(StorageUnavailable, match=r"cannot reach .* check STATE_STORAGE_CONNECTION"):
        store.list_schools()

    assert time.monotonic() - started < 5


def test_missing_tables_say_to_run_ensure_tables(azurite):
    store = StateStore(azurite.connection_string, table_prefix="neverCreated")

    with pytest.raises(StorageUnavailable, match=r"ensure_tables\(\)"):
        store.get_mapping("4001", "7A", 2025)


def test_wrong_account_key_says_to_check_the_key(azurite):
    key = azurite.connection_string.split("AccountKey=")[1].split(";")[0]
    wrong = azurite.connection_string.replace(key, "A" * 86 + "==")
    store = StateStore(wrong, table_prefix="anything")

    with pytest.raises(StorageUnavailable, match="refused the credentials"):
        store.list_schools()


def test_missing_export_container_says_how_to_create_it(azurite):
    exports = ExportStore(azurite.connection_string, container="never-created")

    with pytest.raises(StorageUnavailable, match="ensure_container"):
        exports.latest_export("4001")
