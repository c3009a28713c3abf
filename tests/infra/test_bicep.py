"""The Bicep in infra/ cannot be compiled offline; these checks catch what can be caught:
syntax (tree-sitter-bicep), a description on every parameter, and agreement with the code on
queue names, table names and app settings."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
SETTINGS_THE_CODE_READS = (
    "NIGHTLY_SCHEDULE",
    "GRAPH_INSTANCE_COUNT",
    "GRAPH_AUTH",
    "ServiceBusConnection__fullyQualifiedNamespace",
    "STATE_TABLE_URL",
    "STATE_BLOB_URL",
    "AzureWebJobsStorage__accountName",
)
SERVICE_BUS_MAX_LOCK = timedelta(minutes=5)


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bicep.language()))


def _syntax_errors(source: bytes) -> list[str]:
    errors: list[str] = []
    stack = [_parser().parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            line, column = node.start_point
            errors.append(f"line {line + 1}, column {column + 1}: {node.text[:40]!r}")
        stack.extend(node.children)
    return errors


def _top_level(path: Path) -> list[Node]:
    return list(_parser().parse(path.read_bytes()).root_node.children)


def _iso_duration(text: str) -> timedelta:
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", text)
    assert match, f"not an ISO 8601 duration: {text}"
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _hms_duration(text: str) -> timedelta:
    hours, minutes, seconds = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def test_infra_holds_the_main_template_and_its_modules():
    assert (INFRA / "main.bicep") in BICEP_FILES
    assert len(BICEP_FILES) > 1


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.name)
def test_bicep_file_parses_without_syntax_errors(path):
    assert _syntax_errors(path.read_bytes()) == []


def test_the_syntax_check_does_catch_a_broken_file():
    broken = b"param name string =\nresource x 'Microsoft.Web/sites@2024-04-01' = {\n"

    assert _syntax_errors(broken)


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.name)
def test_every_parameter_has_a_description(path):
    nodes = _top_level(path)
    undocumented = []
    for index, node in enumerate(nodes):
        if node.type != "parameter_declaration":
            continue
        decorators = nodes[index - 1] if index and nodes[index - 1].type == "decorators" else None
        if decorators is None or b"@description(" not in decorators.text:
            undocumented.append(node.children[1])

    assert [name.text.decode() for name in undocumented] == []


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.name)
def test_every_module_path_exists(path):
    modules = re.findall(r"^module \w+ '([^']+)'", path.read_text(), flags=re.MULTILINE)

    assert [m for m in modules if not (path.parent / m).is_file()] == []


def _queues_in_bicep() -> dict[str, str]:
    text = (INFRA / "modules" / "servicebus.bicep").read_text()
    block = re.search(r"var queues = \[(.*?)\n\]", text, flags=re.DOTALL).group(1)
    return dict(re.findall(r"name: '([^']+)', duplicateWindow: '([^']+)'", block))


def _queues_in_code() -> set[str]:
    names = {"school-sync", "group-reconcile", "commands"}
    for path in [*REPO.glob("functions/*.py"), *REPO.glob("shared/messages/*.py")]:
        text = path.read_text()
        names.update(re.findall(r"queue_name=\"([^\"]+)\"", text))
        names.update(re.findall(r"^\w*_QUEUE = \"([^\"]+)\"", text, flags=re.MULTILINE))
    return names


def test_every_queue_named_in_the_code_is_deployed():
    assert _queues_in_code() - set(_queues_in_bicep()) == set()


def test_every_queue_has_duplicate_detection_within_service_bus_limits():
    text = (INFRA / "modules" / "servicebus.bicep").read_text()

    assert "requiresDuplicateDetection: true" in text
    for window in _queues_in_bicep().values():
        assert timedelta(seconds=20) <= _iso_duration(window) <= timedelta(days=7)


def test_lock_duration_is_within_service_bus_limit_and_renewed_by_the_host():
    main = (INFRA / "main.bicep").read_text()
    lock = _iso_duration(re.search(r"param messageLockDuration string = '([^']+)'", main)[1])
    host_json = REPO / "host.json"

    assert lock <= SERVICE_BUS_MAX_LOCK
    if host_json.exists():
        service_bus = json.loads(host_json.read_text()).get("extensions", {}).get("serviceBus", {})
        renewal = service_bus.get("maxAutoLockRenewalDuration")
        if renewal:
            assert _hms_duration(renewal) >= lock


def test_the_app_gets_every_setting_the_code_reads():
    text = (INFRA / "modules" / "functionapp.bicep").read_text()

    missing = [
        name for name in SETTINGS_THE_CODE_READS if not re.search(rf"^\s+{name}:", text, re.M)
    ]

    assert missing == []


def test_instance_cap_and_graph_instance_count_come_from_one_value():
    text = (INFRA / "modules" / "functionapp.bicep").read_text()

    assert "maximumInstanceCount: maximumInstanceCount" in text
    assert "GRAPH_INSTANCE_COUNT: string(maximumInstanceCount)" in text


def test_the_deployed_tables_are_the_ones_the_state_store_uses():
    from shared.state.store import TABLE_NAMES

    text = (INFRA / "modules" / "storage.bicep").read_text()
    block = re.search(r"var stateTables = \[(.*?)\]", text, flags=re.DOTALL).group(1)

    assert set(re.findall(r"'(\w+)'", block)) == set(TABLE_NAMES)


def test_storage_is_locked_down():
    text = (INFRA / "modules" / "storage.bicep").read_text()

    for setting in (
        "minimumTlsVersion: 'TLS1_2'",
        "allowBlobPublicAccess: false",
        "allowSharedKeyAccess: false",
        "supportsHttpsTrafficOnly: true",
    ):
        assert setting in text


def test_azd_parameters_name_only_declared_parameters():
    declared = {
        node.children[1].text.decode()
        for node in _top_level(INFRA / "main.bicep")
        if node.type == "parameter_declaration"
    }
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]

    assert set(parameters) <= declared
