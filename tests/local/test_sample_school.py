"""The sample school generator: realistic shape, deterministic bytes, readable by the readers."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from local.sample_school import generate_school, generate_trust, next_night, write_oneroster
from local.sample_school.__main__ import main
from shared.domain.snapshot import GroupKind
from shared.mis import list_schools, read_mis_export

TEACHING_SET = re.compile(r"^(7|8|9|10|11)[XY]/[A-Z][a-z]\d+$|^1[23][A-E]/[A-Z][a-z]\d+$")


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def school():
    return generate_school(600, seed=7)


@pytest.fixture(scope="module")
def export(tmp_path_factory, school) -> Path:
    return write_oneroster(school, tmp_path_factory.mktemp("school"))


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    first = write_oneroster(generate_school(300, seed=3), tmp_path / "a")
    second = write_oneroster(generate_school(300, seed=3), tmp_path / "b")

    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)


def test_another_seed_gives_another_school():
    first = generate_school(300, seed=3)
    second = generate_school(300, seed=4)

    assert [p.username for p in first.people] != [p.username for p in second.people]


def test_years_seven_to_thirteen_with_a_smaller_sixth_form(school):
    per_year = Counter(p.grade for p in school.students)

    assert sorted(per_year) == ["07", "08", "09", "10", "11", "12", "13"]
    assert per_year["12"] < per_year["10"] and per_year["13"] < per_year["10"]
    assert sum(per_year.values()) == 600


def test_registration_groups_per_year_and_teaching_sets_named_like_the_mis(school):
    homerooms = [c.title for c in school.classes if c.class_type == "homeroom"]
    scheduled = [c.title for c in school.classes if c.class_type == "scheduled"]

    assert "7A" in homerooms and "13A" in homerooms
    assert "10X/Ma1" in scheduled
    assert all(TEACHING_SET.match(title) for title in scheduled)


def test_teachers_have_several_sets_and_a_few_sets_have_two_teachers_one_primary(school):
    teachers = {p.sourced_id for p in school.people if p.role == "teacher"}
    staff_links = defaultdict(list)
    for e in school.enrollments:
        if e.user_id in teachers:
            staff_links[e.class_id].append(e.primary)
    sets_per_teacher = Counter(e.user_id for e in school.enrollments if e.user_id in teachers)
    co_taught = [flags for flags in staff_links.values() if len(flags) == 2]

    assert min(sets_per_teacher.values()) >= 2
    assert co_taught
    assert all(sorted(flags) == ["false", "true"] for flags in co_taught)
    assert any(flags == [""] for flags in staff_links.values())


def test_aides_are_enrolled_in_some_classes(school):
    aides = {p.sourced_id for p in school.people if p.role == "aide"}

    enrolled = {e.user_id for e in school.enrollments if e.user_id in aides}

    assert aides and enrolled == aides


def test_some_pupils_left_or_joined_mid_year(school):
    students = school.students

    assert any(p.status == "tobedeleted" for p in students)
    assert any(not p.enabled for p in students)
    assert any(not p.has_account for p in students)
    assert any(e.begin_date for e in school.enrollments)
    assert any(e.end_date for e in school.enrollments)


def test_usernames_are_unique_upns_in_the_school_domain(school):
    names = [p.username for p in school.people]

    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+\d*@oakfield\.example\.org", n) for n in names)
    assert any(re.fullmatch(r"[a-z]+\d{2}@.*", p.username) for p in school.students)


def test_directory_users_leave_out_pupils_without_an_account(school):
    users = school.directory_users()

    assert len(users) == sum(1 for p in school.people if p.has_account)
    assert {"userPrincipalName", "displayName", "mail", "employeeId"} <= set(users[0])


def test_the_export_is_a_oneroster_1_1_bulk_package(export):
    manifest = dict((r["propertyName"], r["value"]) for r in rows(export, "manifest.csv"))

    assert manifest["oneroster.version"] == "1.1"
    assert manifest["file.users"] == "bulk"
    assert (export / "enrollments.csv").read_bytes().startswith(b"sourcedId,status,")


def test_the_export_reads_as_a_snapshot_with_every_kind_of_group(export, school):
    snapshot = read_mis_export(export)

    kinds = Counter(group.kind for group in snapshot.groups.values())
    assert snapshot.school.dfe_number == "4001"
    assert snapshot.academic_year_start == 2025
    assert kinds[GroupKind.YEAR] == 7
    assert kinds[GroupKind.REGISTRATION] > 7
    assert kinds[GroupKind.TEACHING] > kinds[GroupKind.REGISTRATION]
    assert snapshot.inactive_people == sum(1 for p in school.people if not p.active)


def test_a_trust_export_holds_several_schools_with_distinct_ids(tmp_path):
    schools = generate_trust(3, 900, seed=1)

    write_oneroster(schools, tmp_path)

    orgs = rows(tmp_path, "orgs.csv")
    users = rows(tmp_path, "users.csv")
    assert [o["type"] for o in orgs] == ["district", "school", "school", "school"]
    assert len({u["sourcedId"] for u in users}) == len(users)
    assert [s.dfe_number for s in list_schools(tmp_path)] == ["4001", "4002", "4003"]
    assert sum(len(s.students) for s in schools) == 900


def test_two_thousand_students_generate_and_write_well_under_a_second(tmp_path):
    started = time.perf_counter()

    write_oneroster(generate_school(2000, seed=1), tmp_path)

    assert time.perf_counter() - started < 1.0


def test_the_command_line_writes_the_package(tmp_path):
    code = main(["--students", "100", "--seed", "2", "--schools", "2", "--out", str(tmp_path)])

    assert code == 0
    assert len(rows(tmp_path, "orgs.csv")) == 3


def test_a_night_later_some_pupils_move_join_and_leave_and_a_class_changes_teacher(school):
    before = {(e.class_id, e.user_id) for e in school.enrollments}

    tomorrow, changes = next_night(school, seed=2)

    after = {(e.class_id, e.user_id) for e in tomorrow.enrollments}
    status = {p.sourced_id: p.status for p in tomorrow.people}
    assert all(
        (dst, pupil) in after and (src, pupil) not in after for pupil, src, dst in changes.moved
    )
    assert all(any(user == joiner for _, user in after) for joiner in changes.joined)
    assert all(status[leaver] == "tobedeleted" for leaver in changes.left)
    assert [(c, new) in after and (c, old) in before for c, old, new in changes.new_teacher] == [
        True
    ]
    assert len(changes.moved) == 5 and len(changes.joined) == 2 and len(changes.left) == 2
    assert len(school.people) + 2 == len(tomorrow.people)


def test_a_night_later_still_reads_as_a_valid_export(tmp_path, school):
    tomorrow, changes = next_night(school, seed=2)

    snapshot = read_mis_export(write_oneroster(tomorrow, tmp_path))

    assert all(snapshot.people[j].active for j in changes.joined)
    assert all(not snapshot.people[p].active for p in changes.left)
