"""Start the local stand-ins (Azurite, the Graph emulator, the Service Bus stand-in) as
child processes on free loopback ports, for the tests, the demo and the benchmarks.

    with start_graph_emulator() as graph:
        print(graph.url)            # http://127.0.0.1:PORT
    with start_azurite() as storage:
        print(storage.connection_string)
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published development key: the same in every installation, not a secret.
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
SERVICEBUS_KEY_NAME = "RootManageSharedAccessKey"
SERVICEBUS_KEY = "SAS_KEY_VALUE"
STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningService:
    name: str
    host: str
    ports: dict[str, int]
    process: subprocess.Popen
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return next(iter(self.ports.values()))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def connection_string(self) -> str:
        """Azurite: a storage connection string; the Service Bus stand-in: an SDK one."""
        if self.name == "azurite":
            return (
                f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
                f"AccountKey={AZURITE_KEY};"
                f"BlobEndpoint=http://{self.host}:{self.ports['blob']}/{AZURITE_ACCOUNT};"
                f"TableEndpoint=http://{self.host}:{self.ports['table']}/{AZURITE_ACCOUNT};"
            )
        if self.name == "servicebus":
            return (
                f"Endpoint=sb://{self.host}:{self.port};"
                f"SharedAccessKeyName={SERVICEBUS_KEY_NAME};SharedAccessKey={SERVICEBUS_KEY};"
                "UseDevelopmentEmulator=true;"
            )
        raise ValueError(f"{self.name} has no connection string")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with code {process.returncode} before listening on port {port}; "
                "run `make setup` and try again"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {host}:{port} within {STARTUP_TIMEOUT_SECONDS}s")


def _spawn(
    name: str, argv: Sequence[str], ports: dict[str, int], log_dir: Path | None
) -> RunningService:
    host = "127.0.0.1"
    log = subprocess.DEVNULL
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    process = subprocess.Popen(
        list(argv), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    service = RunningService(name, host, ports, process)
    try:
        for port in ports.values():
            wait_for_port(host, port, process, name)
    except Exception:
        service.stop()
        raise
    return service


def azurite_binary() -> Path:
    binary = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run `make setup` (it runs `npm install`)")
    return binary


@contextlib.contextmanager
def start_azurite(log_dir: Path | None = None) -> Iterator[RunningService]:
    """Azurite's Blob and Table services, in memory."""
    ports = {"blob": free_port(), "table": free_port(), "queue": free_port()}
    argv = [
        str(azurite_binary()),
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--silent",
        "--blobHost", "127.0.0.1", "--blobPort", str(ports["blob"]),
        "--tableHost", "127.0.0.1", "--tablePort", str(ports["table"]),
        "--queueHost", "127.0.0.1", "--queuePort", str(ports["queue"]),
    ]  # fmt: skip
    service = _spawn("azurite", argv, ports, log_dir)
    try:
        yield service
    finally:
        service.stop()


@contextlib.contextmanager
def start_graph_emulator(*options: str, log_dir: Path | None = None) -> Iterator[RunningService]:
    """`python -m local.graph_emulator --port N [options]`."""
    port = free_port()
    argv = [sys.executable, "-m", "local.graph_emulator", "--port", str(port), *options]
    service = _spawn("graph-emulator", argv, {"http": port}, log_dir)
    try:
        yield service
    finally:
        service.stop()


@contextlib.contextmanager
def start_servicebus(*options: str, log_dir: Path | None = None) -> Iterator[RunningService]:
    """`python -m local.servicebus --port N [options]`."""
    port = free_port()
    argv = [sys.executable, "-m", "local.servicebus", "--port", str(port), *options]
    service = _spawn("servicebus", argv, {"amqp": port}, log_dir)
    try:
        yield service
    finally:
        service.stop()
