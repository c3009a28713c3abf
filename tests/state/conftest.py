"""A fresh StateStore and ExportStore per test, on the session's Azurite, each in its own
tables or container so tests never see each other's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.state import ExportStore, StateStore


@pytest.fixture
def store(azurite) -> Iterator[StateStore]:
    prefix = "t" + uuid.uuid4().hex[:10]
    with StateStore(azurite.connection_string, table_prefix=prefix) as state:
        state.ensure_tables()
        yield state


@pytest.fixture
def exports(azurite) -> Iterator[ExportStore]:
    container = "mis-" + uuid.uuid4().hex[:12]
    with ExportStore(azurite.connection_string, container=container) as drop:
        drop.ensure_container()
        yield drop
