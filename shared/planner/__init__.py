"""The planner: desired groups against Microsoft 365's current state, as plans to apply.

plan = plan_group(owners, members, current, sync_owners, settings.safety)
check = check_school(last_good, SnapshotFigures.of(snapshot), settings.safety)
"""

from shared.planner.group_plan import STEP_ORDER, CurrentGroup, GroupPlan, plan_group
from shared.planner.membership import DesiredMembership, resolve_desired
from shared.planner.preview import (
    GroupPreview,
    SchoolPreview,
    preview_empty_tenant,
    preview_school,
)
from shared.planner.safety import SchoolCheck, SnapshotFigures, check_school

__all__ = [
    "STEP_ORDER",
    "CurrentGroup",
    "DesiredMembership",
    "GroupPlan",
    "GroupPreview",
    "SchoolCheck",
    "SchoolPreview",
    "SnapshotFigures",
    "check_school",
    "plan_group",
    "preview_empty_tenant",
    "preview_school",
    "resolve_desired",
]
