"""Writing generated schools as a OneRoster 1.1 CSV package (bulk mode, CRLF, no BOM)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from local.sample_school.model import SampleSchool

MANIFEST_FILES = {
    "academicSessions": "bulk",
    "categories": "absent",
    "classes": "bulk",
    "classResources": "absent",
    "courses": "bulk",
    "courseResources": "absent",
    "demographics": "absent",
    "enrollments": "bulk",
    "lineItems": "absent",
    "orgs": "bulk",
    "resources": "absent",
    "results": "absent",
    "users": "bulk",
}
ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"
SESSIONS_HEADER = (
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
)
COURSES_HEADER = (
    "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
    "orgSourcedId,subjects,subjectCodes"
)
CLASSES_HEADER = (
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
    "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
)
USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
ENROLLMENTS_HEADER = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
    "primary,beginDate,endDate"
)


def write_oneroster(
    schools: SampleSchool | Sequence[SampleSchool],
    out_dir: Path,
    *,
    trust_name: str = "Sample Learning Trust",
) -> Path:
    """Write the OneRoster 1.1 CSV package into `out_dir`; several schools make a trust export
    with the trust as a district org above them."""
    group = [schools] if isinstance(schools, SampleSchool) else list(schools)
    out_dir.mkdir(parents=True, exist_ok=True)
    year = group[0].academic_year_start
    session_id = f"ay-{year}"

    manifest = [("propertyName", "value"), ("manifest.version", "1.0")]
    manifest.append(("oneroster.version", "1.1"))
    manifest.extend((f"file.{name}", mode) for name, mode in MANIFEST_FILES.items())
    manifest.extend([("source.systemName", "local.sample_school"), ("source.systemCode", "")])
    _write(out_dir / "manifest.csv", None, manifest)

    orgs = []
    trust_id = ""
    if len(group) > 1:
        trust_id = "org-trust"
        orgs.append((trust_id, "", "", trust_name, "district", "", ""))
    orgs.extend((s.org_id, "", "", s.name, "school", s.dfe_number, trust_id) for s in group)
    _write(out_dir / "orgs.csv", ORGS_HEADER, orgs)

    end = f"{year + 1}-07-31"
    sessions = [
        (session_id, "", "", f"{year}/{(year + 1) % 100:02d}", "schoolYear",
         f"{year}-09-01", end, "", str(year + 1)),
        (f"{session_id}-t1", "", "", "Autumn", "term", f"{year}-09-01",
         f"{year}-12-19", session_id, str(year + 1)),
        (f"{session_id}-t2", "", "", "Spring", "term", f"{year + 1}-01-05",
         f"{year + 1}-03-27", session_id, str(year + 1)),
        (f"{session_id}-t3", "", "", "Summer", "term", f"{year + 1}-04-13", end,
         session_id, str(year + 1)),
    ]  # fmt: skip
    _write(out_dir / "academicSessions.csv", SESSIONS_HEADER, sessions)

    _write(out_dir / "courses.csv", COURSES_HEADER, _course_rows(group, session_id))
    _write(out_dir / "classes.csv", CLASSES_HEADER, _class_rows(group, session_id))
    _write(out_dir / "users.csv", USERS_HEADER, _user_rows(group))
    _write(out_dir / "enrollments.csv", ENROLLMENTS_HEADER, _enrollment_rows(group))
    return out_dir


def _course_rows(group: list[SampleSchool], session_id: str) -> Iterable[tuple[str, ...]]:
    for school in group:
        for c in school.courses:
            yield (c.sourced_id, "", "", session_id, c.title, c.course_code, c.grade,
                   school.org_id, c.subject, "")  # fmt: skip


def _class_rows(group: list[SampleSchool], session_id: str) -> Iterable[tuple[str, ...]]:
    for school in group:
        for c in school.classes:
            yield (c.sourced_id, "", "", c.title, c.grade, c.course_id, c.title, c.class_type,
                   "", school.org_id, session_id, c.subject, "", "")  # fmt: skip


def _user_rows(group: list[SampleSchool]) -> Iterable[tuple[str, ...]]:
    for school in group:
        for p in school.people:
            modified = "2025-12-19T16:00:00Z" if p.status else ""
            yield (p.sourced_id, p.status, modified, "true" if p.enabled else "false",
                   p.org_id, p.role, p.username, "", p.given_name, p.family_name, "",
                   p.identifier, p.username, "", "", "", p.grade, "")  # fmt: skip


def _enrollment_rows(group: list[SampleSchool]) -> Iterable[tuple[str, ...]]:
    for school in group:
        org = school.org_id
        for e in school.enrollments:
            yield (e.sourced_id, "", "", e.class_id, org, e.user_id, e.role, e.primary,
                   e.begin_date, e.end_date)  # fmt: skip


def _write(path: Path, header: str | None, rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        if header is not None:
            handle.write(header + "\r\n")
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
