"""The sync's state (Table Storage) and the MIS export drop (Blob Storage). A bottom layer:
it stores plain values and imports no other `shared` package.

    store = StateStore.from_env(os.environ)      # schools, mappings, user links, runs
    exports = ExportStore.from_env(os.environ)   # MIS exports, newest complete one first
"""

from shared.state.connection import StorageLocation
from shared.state.errors import (
    ConcurrencyError,
    StateError,
    StateTooLarge,
    StorageNotConfigured,
    StorageUnavailable,
)
from shared.state.exports import ExportKind, ExportRef, ExportStore
from shared.state.keys import decode_key, encode_key
from shared.state.records import (
    Mapping,
    MappingState,
    Run,
    RunGroupResult,
    RunStatus,
    SchoolRecord,
    UserLink,
)
from shared.state.store import TRANSACTION_MAX_OPERATIONS, StateStore

__all__ = [
    "TRANSACTION_MAX_OPERATIONS",
    "ConcurrencyError",
    "ExportKind",
    "ExportRef",
    "ExportStore",
    "Mapping",
    "MappingState",
    "Run",
    "RunGroupResult",
    "RunStatus",
    "SchoolRecord",
    "StateError",
    "StateStore",
    "StateTooLarge",
    "StorageLocation",
    "StorageNotConfigured",
    "StorageUnavailable",
    "UserLink",
    "decode_key",
    "encode_key",
]
