"""The school-level safety check (X1): a snapshot that lost too many students or groups
against the last good one blocks the run before any change.

    check = check_school(last_good, SnapshotFigures.of(snapshot), settings.safety)
    if check.blocked: report(check.reason)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.settings import SafetyLimits
from shared.domain.snapshot import MisSnapshot


@dataclass(frozen=True, slots=True)
class SnapshotFigures:
    """The counts a snapshot is judged by: active students and MIS groups."""

    students: int
    groups: int

    @classmethod
    def of(cls, snapshot: MisSnapshot) -> SnapshotFigures:
        return cls(students=snapshot.student_count, groups=len(snapshot.groups))

    def to_dict(self) -> dict[str, int]:
        return {"students": self.students, "groups": self.groups}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotFigures:
        return cls(students=int(data["students"]), groups=int(data["groups"]))


@dataclass(frozen=True, slots=True)
class SchoolCheck:
    """The shares lost against the last good snapshot and whether the run may go on."""

    student_loss: float
    group_loss: float
    blocked: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "student_loss": self.student_loss,
            "group_loss": self.group_loss,
            "blocked": self.blocked,
            "reason": self.reason,
        }


def _loss(before: int, now: int) -> float:
    return round(max(0, before - now) / before, 4) if before > 0 else 0.0


def check_school(
    last_good: SnapshotFigures | None,
    current: SnapshotFigures,
    limits: SafetyLimits,
) -> SchoolCheck:
    """Compare with the last good snapshot; a school's first run has none and always passes."""
    if last_good is None:
        return SchoolCheck(student_loss=0.0, group_loss=0.0, blocked=False)

    student_loss = _loss(last_good.students, current.students)
    group_loss = _loss(last_good.groups, current.groups)
    problems = []
    if student_loss > limits.max_student_loss:
        problems.append(
            f"active students fell from {last_good.students} to {current.students} "
            f"({student_loss:.0%} lost, limit {limits.max_student_loss:.0%})"
        )
    if group_loss > limits.max_group_loss:
        problems.append(
            f"groups fell from {last_good.groups} to {current.groups} "
            f"({group_loss:.0%} lost, limit {limits.max_group_loss:.0%})"
        )
    if not problems:
        return SchoolCheck(student_loss=student_loss, group_loss=group_loss, blocked=False)

    reason = (
        "run blocked before any change: "
        + "; ".join(problems)
        + ". Check that the MIS export is complete; if the loss is real, approve the export or "
        "raise the school's safety limit (safety.max_student_loss / safety.max_group_loss)."
    )
    return SchoolCheck(
        student_loss=student_loss, group_loss=group_loss, blocked=True, reason=reason
    )
