"""The use-case tests' local stack, shared with the function tests."""

from tests.usecases.conftest import Recorder, services, stack  # noqa: F401 - fixtures
