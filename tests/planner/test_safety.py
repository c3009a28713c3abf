"""The school-level safety check against the last good snapshot."""

from __future__ import annotations

from shared.domain.settings import SafetyLimits
from shared.planner import SnapshotFigures, check_school
from tests.domain.snapshots import small_school

LIMITS = SafetyLimits(max_student_loss=0.2, max_group_loss=0.2)


def test_a_first_run_with_no_last_good_snapshot_is_never_blocked():
    check = check_school(None, SnapshotFigures(students=10, groups=1), LIMITS)

    assert not check.blocked


def test_losing_more_students_than_the_limit_blocks_the_run_and_says_why():
    check = check_school(
        SnapshotFigures(students=1000, groups=100),
        SnapshotFigures(students=700, groups=100),
        LIMITS,
    )

    assert check.blocked
    assert check.student_loss == 0.3
    assert "1000 to 700" in check.reason
    assert "max_student_loss" in check.reason


def test_losing_more_groups_than_the_limit_blocks_the_run():
    check = check_school(
        SnapshotFigures(students=1000, groups=100),
        SnapshotFigures(students=1000, groups=50),
        LIMITS,
    )

    assert check.blocked
    assert check.group_loss == 0.5
    assert "groups fell from 100 to 50" in check.reason


def test_a_loss_within_the_limits_passes_and_growth_counts_as_no_loss():
    check = check_school(
        SnapshotFigures(students=1000, groups=100),
        SnapshotFigures(students=800, groups=130),
        LIMITS,
    )

    assert not check.blocked
    assert check.student_loss == 0.2
    assert check.group_loss == 0.0


def test_figures_count_active_students_and_all_groups():
    figures = SnapshotFigures.of(small_school())

    assert figures == SnapshotFigures(students=3, groups=4)
    assert SnapshotFigures.from_dict(figures.to_dict()) == figures
