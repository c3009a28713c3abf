"""The messages the functions pass each other on Service Bus: versioned JSON, checked on receipt.

    body = encode(SchoolSync(school_id="4001", run_id="2025-09-14", trigger="nightly"))
    message = decode(body, SCHOOL_SYNC_QUEUE)      # raises InvalidMessage(reason)

Sending and receiving live in `bus.py`; this module only knows shapes, versions and ids.
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
import uuid
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import date
from typing import Any, ClassVar

SCHEMA_VERSION = 1
SCHOOL_SYNC_QUEUE = "school-sync"
GROUP_RECONCILE_QUEUE = "group-reconcile"
COMMANDS_QUEUE = "commands"
QUEUES = (SCHOOL_SYNC_QUEUE, GROUP_RECONCILE_QUEUE, COMMANDS_QUEUE)
# Service Bus rejects longer message ids.
MAX_MESSAGE_ID_LENGTH = 128
# Service Bus Standard's limit is 256 KB including headers; keep a margin for them.
MAX_MESSAGE_BYTES = 240_000

TRIGGERS = frozenset({"nightly", "command", "cli"})
GROUP_KINDS = frozenset({"year", "registration", "teaching"})
VISIBILITIES = frozenset({"Private", "Public"})


class InvalidMessage(ValueError):
    """A message that can never be processed; the trigger dead-letters it with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SchoolSync:
    """Run one school: plan every group, dispatch a reconcile for each that drifted."""

    TYPE: ClassVar[str] = "school-sync"

    school_id: str
    run_id: str
    trigger: str = "nightly"

    def validate(self) -> None:
        _require_one_of("trigger", self.trigger, TRIGGERS)


@dataclass(frozen=True, slots=True)
class GroupReconcile:
    """Bring one group in line with its plan (the `GroupPlan` as a dict)."""

    TYPE: ClassVar[str] = "group-reconcile"

    school_id: str
    run_id: str
    mis_group_id: str
    academic_year: int
    kind: str
    display_name: str
    mail_nickname: str
    unique_key: str
    plan: dict[str, Any]
    desired_owners: list[str]
    description: str = ""
    visibility: str = "Private"
    education: bool = False
    on_demand: bool = False
    requested_by: str = ""
    lifetime: str = ""
    # People of the group the directory does not know, for the report (M2).
    not_matched: int = 0
    # Deliveries rescheduled because the group was not ready yet (replication lag).
    attempt: int = 0

    def validate(self) -> None:
        _require_one_of("kind", self.kind, GROUP_KINDS)
        _require_one_of("visibility", self.visibility, VISIBILITIES)


@dataclass(frozen=True, slots=True)
class SyncSchoolCommand:
    """Sync one school now (T2). With `accept_loss`, the admin in `requested_by` approves an
    export the safety limits blocked (X1): `export_id`, or by default the one the school's
    newest blocked run read. The run goes ahead only if it reads that very export."""

    TYPE: ClassVar[str] = "sync-school"

    school_id: str
    requested_by: str = ""
    accept_loss: bool = False
    export_id: str = ""
    command_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def validate(self) -> None:
        if self.accept_loss and not self.requested_by.strip():
            raise InvalidMessage(
                "accept_loss needs requested_by: the admin approving the export, kept in the "
                "run's report"
            )
        if self.export_id and not self.accept_loss:
            raise InvalidMessage(
                "export_id names the export a loss approval is for: send it with accept_loss "
                "true, or leave it out"
            )


@dataclass(frozen=True, slots=True)
class SyncGroupCommand:
    """Sync one group now (T2): plan it fresh and reconcile it."""

    TYPE: ClassVar[str] = "sync-group"

    school_id: str
    mis_group_id: str
    requested_by: str = ""
    command_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class CreateGroupCommand:
    """Create one group now for a chosen MIS group, of any kind (C1); the requester owns it."""

    TYPE: ClassVar[str] = "create-group"

    school_id: str
    mis_group_id: str
    lifetime: str
    requested_by: str
    display_name: str = ""
    description: str = ""
    visibility: str = "Private"
    command_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def validate(self) -> None:
        _require_one_of("visibility", self.visibility, VISIBILITIES)
        _require_text("requested_by", self.requested_by)
        try:
            date.fromisoformat(self.lifetime)
        except ValueError:
            raise InvalidMessage(
                f"lifetime {self.lifetime!r} is not a date: give the date until which the group "
                "is needed as YYYY-MM-DD"
            ) from None


@dataclass(frozen=True, slots=True)
class DeleteGroupCommand:
    """Delete one synced group from Microsoft 365 (C2); the nightly run leaves it deleted."""

    TYPE: ClassVar[str] = "delete-group"

    school_id: str
    mis_group_id: str
    requested_by: str
    academic_year: int | None = None
    command_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def validate(self) -> None:
        _require_text("requested_by", self.requested_by)


@dataclass(frozen=True, slots=True)
class ReleaseHeldRemovalsCommand:
    """Let one group lose the members whose removal the member-loss limit held back (X2)."""

    TYPE: ClassVar[str] = "release-held-removals"

    school_id: str
    mis_group_id: str
    requested_by: str
    academic_year: int | None = None
    command_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def validate(self) -> None:
        _require_text("requested_by", self.requested_by)


Command = (
    SyncSchoolCommand
    | SyncGroupCommand
    | CreateGroupCommand
    | DeleteGroupCommand
    | ReleaseHeldRemovalsCommand
)
Message = SchoolSync | GroupReconcile | Command

COMMAND_TYPES: tuple[type, ...] = typing.get_args(Command)
_TYPES_BY_QUEUE: dict[str, dict[str, type]] = {
    SCHOOL_SYNC_QUEUE: {SchoolSync.TYPE: SchoolSync},
    GROUP_RECONCILE_QUEUE: {GroupReconcile.TYPE: GroupReconcile},
    COMMANDS_QUEUE: {cls.TYPE: cls for cls in COMMAND_TYPES},
}


def queue_for(message: Message) -> str:
    """The queue a message travels on."""
    for queue, known in _TYPES_BY_QUEUE.items():
        if message.TYPE in known:
            return queue
    raise TypeError(f"{type(message).__name__} is not a message")  # pragma: no cover


def encode(message: Message) -> bytes:
    """The JSON body for `message`: its fields plus `type` and `version`."""
    _validate(message)
    document = {"type": message.TYPE, "version": SCHEMA_VERSION, **asdict(message)}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(body: bytes | str, queue: str) -> Message:
    """The message in `body`, checked against what `queue` carries.

    Unknown fields are ignored so that a newer sender that only adds optional fields does not
    break an older receiver; a newer `version` is refused, because its meaning may differ.
    """
    if queue not in _TYPES_BY_QUEUE:
        raise InvalidMessage(f"queue {queue!r} carries no known messages; expected one of {QUEUES}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidMessage(f"body is not JSON ({error}); send it with schemas.encode") from None
    if not isinstance(document, dict):
        raise InvalidMessage("body is not a JSON object; senders must use schemas.encode")

    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidMessage("field 'version' is missing or not an integer")
    if version > SCHEMA_VERSION:
        raise InvalidMessage(
            f"message version {version} is newer than this app understands ({SCHEMA_VERSION}): "
            "deploy the newer app version"
        )
    message_type = document.get("type")
    known = _TYPES_BY_QUEUE[queue]
    if message_type not in known:
        raise InvalidMessage(
            f"type {message_type!r} does not belong on queue {queue!r}; expected one of "
            f"{sorted(known)}"
        )

    cls = known[message_type]
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for spec in fields(cls):
        if spec.name not in document:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise InvalidMessage(f"{message_type}: required field {spec.name!r} is missing")
            continue
        values[spec.name] = _checked(message_type, spec.name, document[spec.name], hints[spec.name])
    message = cls(**values)
    _validate(message)
    return message


def message_id(message: Message) -> str:
    """A deterministic Service Bus message id, so that duplicate detection drops repeats.

    One school-sync per school per run (a nightly run id is the night's date), one reconcile per
    group per run, one message per command.
    """
    match message:
        case SchoolSync():
            raw = f"school-sync:{message.school_id}:{message.run_id}"
        case GroupReconcile():
            raw = (
                f"reconcile:{message.run_id}:{message.school_id}:{message.mis_group_id}:"
                f"{message.academic_year}"
            )
        case _:
            raw = f"command:{message.TYPE}:{message.command_id}"
    if len(raw) <= MAX_MESSAGE_ID_LENGTH:
        return raw
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return f"{raw[: MAX_MESSAGE_ID_LENGTH - len(digest) - 1]}~{digest}"


def nightly_run_id(night: date) -> str:
    """The run id of a school's nightly run: the night's date, so a repeated timer is a no-op."""
    return night.isoformat()


def _checked(message_type: str, name: str, value: Any, hint: Any) -> Any:
    if _matches(value, hint):
        return value
    expected = getattr(hint, "__name__", None) or str(hint)
    raise InvalidMessage(
        f"{message_type}: field {name!r} should be {expected}, got {type(value).__name__}"
    )


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is Any:
        return True
    return isinstance(value, hint)


def _validate(message: Message) -> None:
    _require_text("school_id", message.school_id)
    specific = getattr(message, "validate", None)
    if specific is not None:
        specific()


def _require_one_of(name: str, value: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise InvalidMessage(f"field {name!r} is {value!r}; expected one of {sorted(allowed)}")


def _require_text(name: str, value: str) -> None:
    if not value.strip():
        raise InvalidMessage(f"field {name!r} is required and must not be blank")
