"""A delete on demand that lands while a nightly reconcile of the same group is under way: the
delete wins, and the reconcile does not mark the group active again."""

from __future__ import annotations

import dataclasses
from typing import Any

from shared.state import Mapping, MappingState, StateStore
from shared.usecases.services import Services
from tests.usecases.conftest import without_students
from tests.usecases.test_school_run import night


class DeleteLandsDuringUpdate:
    """The state store, except that the first update of one group's mapping finds it marked
    deleted on demand by someone else between the caller's read and its write."""

    def __init__(self, store: StateStore, mis_group_id: str) -> None:
        self._store = store
        self._mis_group_id = mis_group_id
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def update_mapping(self, mapping: Mapping) -> Mapping:
        if mapping.mis_group_id == self._mis_group_id and not self.raced:
            self.raced = True
            current = self._store.get_mapping(
                mapping.school_id, mapping.mis_group_id, mapping.academic_year
            )
            deleted = dataclasses.replace(current, state=MappingState.DELETED_ON_DEMAND)
            self._store.update_mapping(deleted)
        return self._store.update_mapping(mapping)


async def test_a_reconcile_does_not_undo_a_delete_on_demand_made_meanwhile(stack, services):
    await night(stack, services, "night-1")
    form = next(c for c in stack.school.classes if c.class_type == "homeroom")
    leaver = next(e.user_id for e in stack.school.enrollments if e.class_id == form.sourced_id)
    stack.upload(without_students(stack.school, lambda user_id: user_id != leaver))
    racing = DeleteLandsDuringUpdate(stack.state, form.sourced_id)
    raced_services = Services(stack.env, state=racing, exports=stack.exports)

    try:
        await night(stack, raced_services, "night-2")
    finally:
        await raced_services.graph.aclose()

    assert racing.raced
    assert stack.mapping(form.sourced_id).state is MappingState.DELETED_ON_DEMAND
