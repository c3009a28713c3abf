"""The emulator's directory: users and groups in dicts with the indexes Graph's fast paths
need (nickname, uniqueName, UPN, mail, employeeId, externalId), membership as ordered sets,
and a change log that delta queries read from.

It knows nothing of HTTP; the resource modules apply Graph's rules on top of it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any


def utc_timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_object_id() -> str:
    return str(uuid.uuid4())


def fold(value: Any) -> Any:
    """Graph compares string keys case-insensitively."""
    return value.lower() if isinstance(value, str) else value


@dataclass(slots=True)
class User:
    id: str
    user_principal_name: str
    display_name: str
    mail: str | None = None
    mail_nickname: str | None = None
    employee_id: str | None = None
    account_enabled: bool = True
    given_name: str | None = None
    surname: str | None = None
    created: str = field(default_factory=utc_timestamp)
    visible_at: float = 0.0
    deleted: bool = False
    number: int = 0  # creation order, for stable paging of index hits


@dataclass(slots=True)
class Group:
    id: str
    display_name: str
    mail_nickname: str
    group_types: list[str]
    mail_enabled: bool
    security_enabled: bool
    visibility: str
    description: str | None = None
    unique_name: str | None = None
    resource_behavior_options: list[str] = field(default_factory=list)
    resource_provisioning_options: list[str] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)
    # Insertion-ordered sets: paging needs a stable order, membership tests need O(1).
    members: dict[str, None] = field(default_factory=dict)
    owners: dict[str, None] = field(default_factory=dict)
    created: str = field(default_factory=utc_timestamp)
    visible_at: float = 0.0
    deleted: bool = False
    deleted_at: str | None = None
    education: dict[str, Any] | None = None
    number: int = 0

    @property
    def is_unified(self) -> bool:
        return any(kind.lower() == "unified" for kind in self.group_types)


@dataclass(slots=True)
class Change:
    """One entry of the change log; `member_id` is set for link changes only."""

    kind: str  # "user" or "group"
    object_id: str
    relation: str | None = None  # "members" or "owners"
    member_id: str | None = None
    added: bool = True


class Store:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.users_by_upn: dict[str, str] = {}
        self.users_by_mail: dict[str, set[str]] = {}
        self.users_by_employee_id: dict[str, set[str]] = {}
        self.groups: dict[str, Group] = {}
        self.groups_by_nickname: dict[str, str] = {}  # Unified groups only, deleted ones too
        self.groups_by_any_nickname: dict[str, set[str]] = {}  # every group, for $filter
        self.groups_by_unique_name: dict[str, str] = {}
        self.groups_by_display_name: dict[str, set[str]] = {}
        self.classes_by_external_id: dict[str, set[str]] = {}
        self.changes: list[Change] = []
        self._numbers = itertools.count(1)

    # --- visibility (replication lag) -------------------------------------------------------

    @staticmethod
    def visible(obj: User | Group, now: float) -> bool:
        return not obj.deleted and obj.visible_at <= now

    def visible_user(self, user_id: str, now: float) -> User | None:
        user = self.users.get(user_id)
        if user is None or not self.visible(user, now):
            return None
        return user

    def visible_group(self, group_id: str, now: float) -> Group | None:
        group = self.groups.get(group_id)
        if group is None or not self.visible(group, now):
            return None
        return group

    def find_user(self, key: str) -> User | None:
        """A user by id or by userPrincipalName, as `/users/{id | userPrincipalName}` allows."""
        user = self.users.get(key)
        if user is None and "@" in key:
            user_id = self.users_by_upn.get(key.lower())
            user = self.users.get(user_id) if user_id else None
        return user

    # --- users ------------------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        user.number = next(self._numbers)
        self.users[user.id] = user
        self.users_by_upn[user.user_principal_name.lower()] = user.id
        self._index_user(user)
        self.log(Change("user", user.id))

    def _index_user(self, user: User) -> None:
        if user.mail:
            self.users_by_mail.setdefault(user.mail.lower(), set()).add(user.id)
        if user.employee_id:
            self.users_by_employee_id.setdefault(user.employee_id.lower(), set()).add(user.id)

    def _unindex_user(self, user: User) -> None:
        if user.mail:
            self.users_by_mail.get(user.mail.lower(), set()).discard(user.id)
        if user.employee_id:
            self.users_by_employee_id.get(user.employee_id.lower(), set()).discard(user.id)

    def update_user(self, user: User, changes: dict[str, Any]) -> None:
        self._unindex_user(user)
        if "user_principal_name" in changes:
            self.users_by_upn.pop(user.user_principal_name.lower(), None)
            self.users_by_upn[changes["user_principal_name"].lower()] = user.id
        for name, value in changes.items():
            setattr(user, name, value)
        self._index_user(user)
        self.log(Change("user", user.id))

    def delete_user(self, user: User, keep_memberships: bool) -> None:
        user.deleted = True
        if not keep_memberships:
            for group in self.groups.values():
                for relation in ("members", "owners"):
                    if user.id in getattr(group, relation):
                        self.unlink(group, relation, user.id)
        self.log(Change("user", user.id))

    # --- groups -----------------------------------------------------------------------------

    def add_group(self, group: Group) -> None:
        group.number = next(self._numbers)
        self.groups[group.id] = group
        if group.is_unified:
            self.groups_by_nickname[group.mail_nickname.lower()] = group.id
        self.groups_by_any_nickname.setdefault(group.mail_nickname.lower(), set()).add(group.id)
        if group.unique_name:
            self.groups_by_unique_name[group.unique_name.lower()] = group.id
        self.groups_by_display_name.setdefault(group.display_name.lower(), set()).add(group.id)
        if group.education and group.education.get("externalId"):
            external_id = str(group.education["externalId"]).lower()
            self.classes_by_external_id.setdefault(external_id, set()).add(group.id)
        self.log(Change("group", group.id))

    def nickname_taken(self, nickname: str, except_id: str | None = None) -> bool:
        holder = self.groups_by_nickname.get(nickname.lower())
        return holder is not None and holder != except_id

    def rename_group(self, group: Group, display_name: str) -> None:
        self.groups_by_display_name.get(group.display_name.lower(), set()).discard(group.id)
        group.display_name = display_name
        self.groups_by_display_name.setdefault(display_name.lower(), set()).add(group.id)

    def renick_group(self, group: Group, nickname: str) -> None:
        if group.is_unified:
            self.groups_by_nickname.pop(group.mail_nickname.lower(), None)
            self.groups_by_nickname[nickname.lower()] = group.id
        self.groups_by_any_nickname.get(group.mail_nickname.lower(), set()).discard(group.id)
        self.groups_by_any_nickname.setdefault(nickname.lower(), set()).add(group.id)
        group.mail_nickname = nickname

    def delete_group(self, group: Group) -> None:
        """Unified groups are soft-deleted and keep their nickname; others are gone for good."""
        if group.is_unified:
            group.deleted = True
            group.deleted_at = utc_timestamp()
        else:
            del self.groups[group.id]
            self.groups_by_any_nickname.get(group.mail_nickname.lower(), set()).discard(group.id)
            if group.unique_name:
                self.groups_by_unique_name.pop(group.unique_name.lower(), None)
        self.groups_by_display_name.get(group.display_name.lower(), set()).discard(group.id)
        if group.education and group.education.get("externalId"):
            external_id = str(group.education["externalId"]).lower()
            self.classes_by_external_id.get(external_id, set()).discard(group.id)
        self.log(Change("group", group.id))

    def link(self, group: Group, relation: str, user_id: str) -> None:
        getattr(group, relation)[user_id] = None
        self.log(Change("group", group.id, relation, user_id, True))

    def unlink(self, group: Group, relation: str, user_id: str) -> None:
        getattr(group, relation).pop(user_id, None)
        self.log(Change("group", group.id, relation, user_id, False))

    def touch_group(self, group: Group) -> None:
        self.log(Change("group", group.id))

    # --- change log -------------------------------------------------------------------------

    def log(self, change: Change) -> None:
        self.changes.append(change)

    @property
    def sequence(self) -> int:
        return len(self.changes)
