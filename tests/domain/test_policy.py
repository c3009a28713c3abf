"""Which groups a school should have, and who owns and belongs to each."""

from __future__ import annotations

import copy
import json

import pytest

from shared.domain.policy import desired_groups
from shared.domain.settings import SchoolSettings, SettingsError
from shared.domain.snapshot import GroupKind, MisGroup, Role, School, StaffLink
from shared.mis import read_mis_export
from shared.mis.jsonsnapshot import snapshot_to_json
from tests.domain.snapshots import small_school, snapshot, staff, student, teaching_group


def settings_for(**overrides) -> SchoolSettings:
    data = {"school_id": "org-1", "dfe_number": "4001", "admin_owners": ["it@x.org"]}
    return SchoolSettings.from_dict({**data, **overrides})


def by_id(groups):
    return {group.mis_group_id: group for group in groups}


def test_year_and_registration_groups_are_owned_by_admin_owners_only():
    groups = by_id(desired_groups(small_school(), settings_for()))

    for group_id in ("year:10", "reg-10A"):
        assert groups[group_id].owner_people == ()
        assert groups[group_id].admin_owners == ("it@x.org",)


def test_year_and_registration_group_members_are_their_active_students():
    groups = by_id(desired_groups(small_school(), settings_for()))

    assert groups["year:10"].member_people == ("s1", "s2", "s3")
    assert groups["reg-10A"].member_people == ("s1", "s2", "s3")


def test_teaching_group_is_owned_by_its_primary_teacher():
    people = [student("s1"), staff("t1"), staff("t2")]
    links = [StaffLink("t1"), StaffLink("t2", primary=True)]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])

    (group,) = desired_groups(school, settings_for())

    assert group.owner_people == ("t2",)


def test_without_a_primary_teacher_the_teacher_first_by_mis_id_owns_the_group():
    people = [student("s1"), staff("t1"), staff("t2")]
    links = [StaffLink("t2"), StaffLink("t1")]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])

    (group,) = desired_groups(school, settings_for())

    assert group.owner_people == ("t1",)


def test_reordering_an_exports_rows_does_not_change_the_registered_teacher(tmp_path):
    people = [student("s1"), staff("t3"), staff("t1"), staff("t2")]
    links = [StaffLink("t3"), StaffLink("t1"), StaffLink("t2")]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])
    document = snapshot_to_json(school)
    reordered = copy.deepcopy(document)
    for group in reordered["groups"]:
        group["staff"].reverse()
    reordered["people"].reverse()
    first, second = tmp_path / "monday.json", tmp_path / "tuesday.json"
    first.write_text(json.dumps(document))
    second.write_text(json.dumps(reordered))

    teaching = {GroupKind.TEACHING}
    monday = desired_groups(read_mis_export(first), settings_for(), kinds=teaching)
    tuesday = desired_groups(read_mis_export(second), settings_for(), kinds=teaching)

    assert [g.owner_people for g in monday] == [("t1",)]
    assert [g.owner_people for g in tuesday] == [("t1",)]


def test_of_two_teachers_flagged_primary_the_first_by_mis_id_owns_the_group():
    people = [student("s1"), staff("t1"), staff("t2")]
    links = [StaffLink("t2", primary=True), StaffLink("t1", primary=True)]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])

    (group,) = desired_groups(school, settings_for())

    assert group.owner_people == ("t1",)


def test_a_teacher_who_left_does_not_own_and_the_next_teacher_does():
    people = [student("s1"), staff("t1", active=False), staff("t2")]
    links = [StaffLink("t1", primary=True), StaffLink("t2")]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])

    (group,) = desired_groups(school, settings_for())

    assert group.owner_people == ("t2",)
    assert group.inactive_left_out == 1


def test_in_seemis_schools_every_staff_member_of_a_teaching_group_owns_it():
    people = [student("s1"), staff("t1"), staff("t2"), staff("a1", Role.AIDE)]
    links = [StaffLink("t1", primary=True), StaffLink("t2"), StaffLink("a1", Role.AIDE)]
    school = snapshot(people, [teaching_group("c1", "S3 Maths", ["s1"], links)])

    (group,) = desired_groups(school, settings_for(mis_vendor="SEEMiS"))

    assert group.owner_people == ("a1", "t1", "t2")


@pytest.mark.parametrize("link_role", [Role.AIDE, Role.ADMINISTRATOR, Role.PROCTOR])
def test_staff_enrolled_in_another_role_than_teacher_do_not_own(link_role):
    people = [student("s1"), staff("x1", Role.ADMINISTRATOR)]
    links = [StaffLink("x1", link_role, primary=True)]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])

    (group,) = desired_groups(school, settings_for())

    assert group.owner_people == ()
    assert group.member_people == ("s1",)


def test_an_aide_enrolled_as_a_teacher_does_not_own():
    people = [student("s1"), staff("a1", Role.AIDE), staff("t1")]
    links = [StaffLink("a1", Role.TEACHER, primary=True), StaffLink("t1")]
    school = snapshot(people, [teaching_group("c1", "10X/Ma1", ["s1"], links)])

    (group,) = desired_groups(school, settings_for())

    assert group.owner_people == ("t1",)


def test_staff_never_become_plain_members_and_students_never_own():
    people = [student("s1"), student("s2"), staff("t1")]
    # An export that lists a teacher among the students and a student among the staff.
    group = teaching_group("c1", "10X/Ma1", ["s1", "t1"], [StaffLink("s2", primary=True)])

    (desired,) = desired_groups(snapshot(people, [group]), settings_for())

    assert desired.member_people == ("s1",)
    assert desired.owner_people == ()
    assert desired.wrong_role_left_out == 2


def test_inactive_people_are_left_out_of_every_group_and_counted():
    groups = by_id(desired_groups(small_school(), settings_for()))

    assert all("s4" not in group.member_people for group in groups.values())
    assert groups["year:10"].inactive_left_out == 1
    assert groups["class-10X-Ma1"].inactive_left_out == 1
    assert groups["class-10X-En1"].inactive_left_out == 0


def test_scholarpack_schools_get_no_teaching_groups_even_when_asked():
    settings = settings_for(mis_vendor="scholarpack")

    nightly = desired_groups(small_school(), settings)
    on_demand = desired_groups(small_school(), settings, kinds={GroupKind.TEACHING})

    assert {group.kind for group in nightly} == {GroupKind.YEAR, GroupKind.REGISTRATION}
    assert on_demand == []


def test_only_enabled_kinds_are_desired_unless_a_kind_is_chosen():
    settings = settings_for(enabled_kinds=["registration"])

    nightly = desired_groups(small_school(), settings)
    on_demand = desired_groups(small_school(), settings, kinds={GroupKind.YEAR})

    assert [group.mis_group_id for group in nightly] == ["reg-10A"]
    assert [group.mis_group_id for group in on_demand] == ["year:10"]


def test_teacher_owners_are_members_of_microsoft_365_groups_but_admins_are_not():
    groups = by_id(desired_groups(small_school(), settings_for(target="groups")))

    maths = groups["class-10X-Ma1"]
    assert maths.owner_people == ("t1",)
    assert maths.member_people == ("s1", "s2", "t1")
    assert maths.student_people == ("s1", "s2")
    assert not maths.admins_are_members


def test_education_classes_need_every_owner_among_the_members():
    groups = by_id(desired_groups(small_school(), settings_for(target="classes")))

    maths = groups["class-10X-Ma1"]
    assert set(maths.owner_people) <= set(maths.member_people)
    assert maths.admins_are_members
    assert maths.education


def test_group_names_follow_the_mis_name_identifier_and_year():
    groups = by_id(desired_groups(small_school(), settings_for(name_identifier="OAK")))

    assert groups["class-10X-Ma1"].display_name == "10X/Ma1 OAK 2025"
    assert groups["class-10X-Ma1"].mail_nickname == "10X-Ma1-OAK-2025"
    assert groups["class-10X-Ma1"].academic_year == 2025


def test_the_identifier_falls_back_to_the_dfe_number_in_the_export():
    settings = SchoolSettings.from_dict({"school_id": "org-1"})

    groups = by_id(desired_groups(small_school(), settings))

    assert groups["reg-10A"].display_name == "10A 4001 2025"


def test_a_school_with_no_identifier_anywhere_is_a_settings_error():
    school = small_school()
    school.school = School(mis_id="org-1", name="Oakfield Academy")

    with pytest.raises(SettingsError) as caught:
        desired_groups(school, SchoolSettings.from_dict({"school_id": "org-1"}))

    assert caught.value.field_name == "name_identifier"


def test_clashing_nicknames_get_suffixes_in_mis_id_order_every_night():
    people = [student("s1")]
    groups = [
        MisGroup("b", GroupKind.REGISTRATION, "10/A", {"s1"}),
        MisGroup("a", GroupKind.REGISTRATION, "10 A", {"s1"}),
    ]

    first = by_id(desired_groups(snapshot(people, groups), settings_for()))
    again = by_id(desired_groups(snapshot(people, list(reversed(groups))), settings_for()))

    assert first["a"].mail_nickname == "10-A-4001-2025"
    assert first["b"].mail_nickname == "10-A-4001-2025-2"
    assert again == first


def test_groups_come_out_sorted_by_mis_id_with_a_stable_key():
    groups = desired_groups(small_school(), settings_for())

    ids = [group.mis_group_id for group in groups]
    assert ids == sorted(ids)
    assert len({group.unique_key for group in groups}) == len(groups)


def test_a_groups_nickname_does_not_depend_on_the_kinds_asked_for():
    people = [student("s1")]
    groups = [
        MisGroup("a-reg", GroupKind.REGISTRATION, "10 A", {"s1"}),
        MisGroup("b-set", GroupKind.TEACHING, "10/A", {"s1"}),
    ]
    school = snapshot(people, groups)

    everything = by_id(desired_groups(school, settings_for()))
    teaching_only = by_id(desired_groups(school, settings_for(), kinds={GroupKind.TEACHING}))

    assert everything["b-set"].mail_nickname == "10-A-4001-2025-2"
    assert teaching_only["b-set"] == everything["b-set"]
