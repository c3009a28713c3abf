"""The demo's known MIS changes: each does what it says, and the expected group changes
follow from them (no server needed)."""

from __future__ import annotations

from local.mis_changes import GroupChange, add_set, apply_demo_changes, swap_teacher
from local.sample_school import generate_school

STUDENTS = 300


def _classes_of(school, person_id: str) -> set[str]:
    return {e.class_id for e in school.enrollments if e.user_id == person_id}


def test_the_demo_changes_move_add_swap_and_remove_as_described():
    school = generate_school(STUDENTS, seed=1)

    changes = apply_demo_changes(school)

    changed = changes.school
    for pupil in changes.moved_pupils:
        assert changes.moved_from in _classes_of(school, pupil)
        assert changes.moved_from not in _classes_of(changed, pupil)
        assert changes.moved_to in _classes_of(changed, pupil)
    assert {c.sourced_id for c in changed.classes} - {c.sourced_id for c in school.classes} == {
        changes.new_set
    }
    swapped = {e.user_id for e in changed.enrollments if e.class_id == changes.swapped_set}
    assert changes.new_teacher in swapped and changes.old_teacher not in swapped
    assert changes.leaver not in {p.sourced_id for p in changed.people}
    assert not _classes_of(changed, changes.leaver)


def test_the_expected_changes_name_every_touched_group_once():
    changes = apply_demo_changes(generate_school(STUDENTS, seed=1))

    expected = changes.expected(admin_owners=2)

    assert set(expected) == changes.groups
    assert expected[changes.new_set] == GroupChange(
        created=True, members_added=len(changes.new_set_pupils) + 1, owners_added=3
    )
    assert expected[changes.swapped_set] == GroupChange(
        members_added=1, members_removed=1, owners_added=1, owners_removed=1
    )
    assert all(expected[g] == GroupChange(members_removed=1) for g in changes.leaver_groups)


def test_a_new_set_takes_the_next_free_number_of_its_course():
    school = generate_school(STUDENTS, seed=1)
    model = next(c for c in school.classes if c.title.endswith("/Ma1"))
    siblings = [c for c in school.classes if c.title.startswith(model.title[:-1])]

    changed, class_id = add_set(school, model.sourced_id, [], "teacher-id")

    added = next(c for c in changed.classes if c.sourced_id == class_id)
    assert added.title == f"{model.title[:-1]}{len(siblings) + 1}"
    assert added.course_id == model.course_id


def test_a_swapped_in_teacher_becomes_the_registered_teacher():
    school = generate_school(STUDENTS, seed=1)
    enrolment = next(e for e in school.enrollments if e.role == "teacher" and e.primary == "true")

    changed = swap_teacher(school, enrolment.class_id, "new-teacher")

    links = [
        e for e in changed.enrollments if e.class_id == enrolment.class_id and e.role == "teacher"
    ]
    assert ("new-teacher", "true") in {(e.user_id, e.primary) for e in links}
    assert enrolment.user_id not in {e.user_id for e in links}
