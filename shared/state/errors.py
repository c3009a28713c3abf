"""The state layer's exceptions, and the one place where Azure SDK errors become them, so
callers handle business problems (a concurrent update, storage not set up) and never SDK types.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableTransactionError

_CONFLICT_CODES = frozenset(
    {"EntityAlreadyExists", "UpdateConditionNotSatisfied", "ConditionNotMet"}
)
_DENIED_CODES = frozenset(
    {"AuthorizationFailure", "AuthenticationFailed", "AuthorizationPermissionMismatch",
     "InsufficientAccountPermissions", "InvalidAuthenticationInfo", "NoAuthenticationInformation"}
)  # fmt: skip


class StateError(Exception):
    """Base class of everything the state layer raises."""


class ConcurrencyError(StateError):
    """Someone else wrote the row since it was read (stale ETag), or it already exists."""


class StorageNotConfigured(StateError):
    """No setting names a storage account, or the one that does is malformed."""


class StorageUnavailable(StateError):
    """The storage account cannot be reached, refuses the credentials, or lacks a table."""


class StateTooLarge(StateError):
    """A value does not fit in one Table Storage entity."""


def _error_code(error: HttpResponseError) -> str:
    code = getattr(error, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    # Some SDK paths (create_entity's 409) carry the code only in the message text.
    for known in (*_CONFLICT_CODES, *_DENIED_CODES, "TableNotFound", "ContainerNotFound"):
        if known in str(error):
            return known
    return ""


@contextmanager
def storage_errors(what: str, *, where: str, setting: str) -> Iterator[None]:
    """Turn Azure SDK errors raised while doing `what` into the state layer's exceptions.

    `where` is the endpoint or table, `setting` the app setting that chose the account, so
    every message names what to fix.
    """
    try:
        yield
    except (ResourceModifiedError, ResourceExistsError) as error:
        raise ConcurrencyError(
            f"{what}: the row changed or was created by another writer since it was read "
            f"({_error_code(error) or error.status_code}); read it again and retry"
        ) from error
    except TableTransactionError as error:
        code = _error_code(error)
        if code in _CONFLICT_CODES:
            raise ConcurrencyError(
                f"{what}: operation {error.index} of the transaction conflicts with another "
                f"writer ({code}); nothing in that transaction was written; read again and retry"
            ) from error
        raise StorageUnavailable(
            f"{what}: transaction refused by {where}: {error.message}"
        ) from error
    except ResourceNotFoundError as error:
        if _error_code(error) in ("TableNotFound", "ContainerNotFound"):
            raise StorageUnavailable(
                f"{what}: {where} does not exist; create it with StateStore.ensure_tables() "
                "(or ExportStore.ensure_container()), or deploy infra/main.bicep, which creates "
                f"it; check that {setting} names the right account"
            ) from error
        raise
    except ClientAuthenticationError as error:
        raise _denied(what, where, setting) from error
    except HttpResponseError as error:
        if error.status_code == 403 or _error_code(error) in _DENIED_CODES:
            raise _denied(what, where, setting) from error
        raise
    except (ServiceRequestError, ServiceResponseError, http.client.HTTPException, OSError) as error:
        raise StorageUnavailable(
            f"{what}: cannot reach {where} ({type(error).__name__}); check {setting} and that "
            "the storage account (or Azurite, locally) is running and reachable"
        ) from error


def _denied(what: str, where: str, setting: str) -> StorageUnavailable:
    return StorageUnavailable(
        f"{what}: {where} refused the credentials; check the account key in {setting}, or, "
        "with a managed identity, its Storage Table/Blob Data Contributor role assignments"
    )
