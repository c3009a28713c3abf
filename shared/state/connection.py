"""Which storage account the state and the MIS exports live in, read from the app settings:
a connection string locally (Azurite), account URLs with the app's managed identity in Azure.

    location = StorageLocation.from_env(os.environ)
    location.table_client_kwargs()   # what TableServiceClient needs
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.state.errors import StorageNotConfigured

# Read in this order; the first one set wins.
STATE_CONNECTION_SETTING = "STATE_STORAGE_CONNECTION"
STATE_TABLE_URL_SETTING = "STATE_TABLE_URL"
STATE_BLOB_URL_SETTING = "STATE_BLOB_URL"
HOST_CONNECTION_SETTING = "AzureWebJobsStorage"
HOST_ACCOUNT_SETTING = "AzureWebJobsStorage__accountName"
ALL_SETTINGS = (
    STATE_CONNECTION_SETTING,
    STATE_TABLE_URL_SETTING,
    STATE_BLOB_URL_SETTING,
    HOST_CONNECTION_SETTING,
    HOST_ACCOUNT_SETTING,
)
# Retries of the SDK's own policy: enough to ride out a blip, few enough that a wrong
# endpoint fails in seconds rather than the SDK default's minutes.
STORAGE_RETRIES = 3
STORAGE_RETRY_BACKOFF_SECONDS = 0.5
STORAGE_CONNECT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class StorageLocation:
    """A storage account, and the setting that named it (for error messages)."""

    setting: str
    connection_string: str | None = None
    table_url: str | None = None
    blob_url: str | None = None

    @classmethod
    def from_connection_string(
        cls, connection_string: str, setting: str = "the connection string given"
    ) -> StorageLocation:
        if not connection_string or not connection_string.strip():
            raise _not_configured(f"{setting} is empty")
        return cls(setting=setting, connection_string=connection_string.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StorageLocation:
        env = os.environ if env is None else env
        if env.get(STATE_CONNECTION_SETTING):
            return cls.from_connection_string(
                env[STATE_CONNECTION_SETTING], STATE_CONNECTION_SETTING
            )
        if env.get(STATE_TABLE_URL_SETTING) or env.get(STATE_BLOB_URL_SETTING):
            return cls(
                setting=f"{STATE_TABLE_URL_SETTING}/{STATE_BLOB_URL_SETTING}",
                table_url=env.get(STATE_TABLE_URL_SETTING) or None,
                blob_url=env.get(STATE_BLOB_URL_SETTING) or None,
            )
        if env.get(HOST_CONNECTION_SETTING):
            return cls.from_connection_string(env[HOST_CONNECTION_SETTING], HOST_CONNECTION_SETTING)
        if env.get(HOST_ACCOUNT_SETTING):
            account = env[HOST_ACCOUNT_SETTING]
            return cls(
                setting=HOST_ACCOUNT_SETTING,
                table_url=f"https://{account}.table.core.windows.net",
                blob_url=f"https://{account}.blob.core.windows.net",
            )
        raise _not_configured("none of them is set")

    def _client_options(self) -> dict[str, Any]:
        return {
            "retry_total": STORAGE_RETRIES,
            "retry_backoff_factor": STORAGE_RETRY_BACKOFF_SECONDS,
            "connection_timeout": STORAGE_CONNECT_TIMEOUT_SECONDS,
        }

    def table_service(self):  # -> TableServiceClient
        from azure.data.tables import TableServiceClient

        if self.connection_string:
            try:
                return TableServiceClient.from_connection_string(
                    self.connection_string, **self._client_options()
                )
            except ValueError as error:
                raise _malformed(self.setting, error) from error
        if not self.table_url:
            raise _not_configured(f"{STATE_TABLE_URL_SETTING} is not set (only the blob URL is)")
        return TableServiceClient(
            endpoint=self.table_url, credential=_managed_credential(), **self._client_options()
        )

    def blob_service(self):  # -> BlobServiceClient
        from azure.storage.blob import BlobServiceClient

        if self.connection_string:
            try:
                return BlobServiceClient.from_connection_string(
                    self.connection_string, **self._client_options()
                )
            except ValueError as error:
                raise _malformed(self.setting, error) from error
        if not self.blob_url:
            raise _not_configured(f"{STATE_BLOB_URL_SETTING} is not set (only the table URL is)")
        return BlobServiceClient(
            account_url=self.blob_url, credential=_managed_credential(), **self._client_options()
        )


def _managed_credential():
    # Imported here: azure.identity costs a fifth of a second that local runs never need.
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _not_configured(why: str) -> StorageNotConfigured:
    return StorageNotConfigured(
        f"no storage account for the sync state and MIS exports: {why}. Set "
        f"{STATE_CONNECTION_SETTING} to a connection string (locally: Azurite's), or "
        f"{STATE_TABLE_URL_SETTING} and {STATE_BLOB_URL_SETTING} to the account URLs (in Azure, "
        f"with the app's managed identity), or {HOST_CONNECTION_SETTING}"
    )


def _malformed(setting: str, error: ValueError) -> StorageNotConfigured:
    return StorageNotConfigured(
        f"{setting} is not a valid storage connection string ({error}); copy it again from the "
        "storage account's Access keys page, or use UseDevelopmentStorage=true for Azurite"
    )
