"""A night on which matching fails for people still in the export removes nobody: their cached
links keep them in their groups, and only people gone from the export lose their link."""

from __future__ import annotations

import dataclasses

import httpx

from shared.usecases.dispatch import reconcile_inline
from shared.usecases.school_run import run_school

ALL_KINDS = ["year", "registration", "teaching"]


async def test_a_pupil_whose_upn_changes_in_the_directory_is_not_removed_from_their_groups(
    stack, services
):
    await night(stack, services, "night-1")
    pupil = _pupil_in_groups(stack)
    user_id = stack.user(pupil.upn)
    before = _groups_of(stack, user_id)
    _rename(stack, user_id, f"renamed.{pupil.upn}")

    run = await night(stack, services, "night-2")

    assert before
    assert _groups_of(stack, user_id) == before
    assert run.summary["people_matched_from_cache"] == 1
    assert stack.state.get_user_links(stack.school_id)[pupil.sourced_id].user_id == user_id
    results = stack.state.list_group_results(stack.school_id, "night-2")
    assert sum(row.members_removed for row in results) == 0


async def test_a_school_whose_matching_setting_is_changed_to_a_wrong_rule_removes_nobody(
    stack, services
):
    stack.save_settings(enabled_kinds=ALL_KINDS)
    await night(stack, services, "night-1")
    before = _memberships(stack)
    links_before = stack.state.get_user_links(stack.school_id)
    stack.save_settings(
        enabled_kinds=ALL_KINDS,
        matching={"mis_field": "email", "directory_property": "employeeId"},
    )

    run = await night(stack, services, "night-2")

    assert _memberships(stack) == before
    assert run.summary["people_matched_from_cache"] == len(links_before)
    assert run.summary["people_not_matched"] < len(links_before)
    assert stack.state.get_user_links(stack.school_id) == links_before
    results = stack.state.list_group_results(stack.school_id, "night-2")
    assert sum(row.members_removed + row.owners_removed for row in results) == 0


async def test_a_pupil_gone_from_the_export_loses_their_link_and_their_groups(stack, services):
    await night(stack, services, "night-1")
    pupil = _pupil_in_groups(stack)
    user_id = stack.user(pupil.upn)
    school = stack.school
    stack.upload(
        dataclasses.replace(
            school,
            people=[p for p in school.people if p.sourced_id != pupil.sourced_id],
            enrollments=[e for e in school.enrollments if e.user_id != pupil.sourced_id],
        )
    )

    await night(stack, services, "night-2")

    assert pupil.sourced_id not in stack.state.get_user_links(stack.school_id)
    assert _groups_of(stack, user_id) == set()


async def test_a_cached_link_to_a_user_gone_from_the_directory_is_not_used(stack, services):
    await night(stack, services, "night-1")
    pupil = _pupil_in_groups(stack)
    user_id = stack.user(pupil.upn)
    _delete_user(stack, user_id)

    run = await night(stack, services, "night-2")

    assert run.summary["people_matched_from_cache"] == 0
    assert run.summary["people_not_matched"] >= 1
    assert pupil.sourced_id in stack.state.get_user_links(stack.school_id)


async def night(stack, services, run_id: str):
    return await run_school(
        services, stack.school_id, run_id, "nightly", reconcile_inline(services)
    )


def _pupil_in_groups(stack):
    enrolled = {e.user_id for e in stack.school.enrollments}
    return next(
        p
        for p in stack.school.people
        if p.role == "student" and p.has_account and p.active and p.sourced_id in enrolled
    )


def _groups_of(stack, user_id: str) -> set[str]:
    return {g["id"] for g in stack.emulator.groups() if user_id in g["members"]}


def _memberships(stack) -> dict[str, tuple[list[str], list[str]]]:
    return {g["id"]: (sorted(g["owners"]), sorted(g["members"])) for g in stack.emulator.groups()}


def _graph(stack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.env["GRAPH_BASE_URL"],
        headers={"Authorization": f"Bearer {stack.env['GRAPH_TOKEN']}"},
        timeout=30,
    )


def _rename(stack, user_id: str, upn: str) -> None:
    with _graph(stack) as graph:
        graph.patch(f"/users/{user_id}", json={"userPrincipalName": upn}).raise_for_status()


def _delete_user(stack, user_id: str) -> None:
    with _graph(stack) as graph:
        graph.delete(f"/users/{user_id}").raise_for_status()
