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
ORGS_COLUMNS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"
SESSIONS_COLUMNS = (
    "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
)
COURSES_COLUMNS = (
    "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
    "orgSourcedId,subjects,subjectCodes"
)
CLASSES_COLUMNS = (
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
    "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
)
USERS_COLUMNS = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
ENROLLMENTS_COLUMNS = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
    "primary,beginDate,endDate"
)
# When a generated leaver's record changed, for the status column's companion.
LEAVERS_MODIFIED = "T16:00:00Z"

Row = dict[str, str]


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

    manifest = [{"propertyName": "manifest.version", "value": "1.0"}]
    manifest.append({"propertyName": "oneroster.version", "value": "1.1"})
    manifest.extend({"propertyName": f"file.{n}", "value": m} for n, m in MANIFEST_FILES.items())
    manifest.append({"propertyName": "source.systemName", "value": "local.sample_school"})
    _write(out_dir / "manifest.csv", "propertyName,value", manifest)

    _write(out_dir / "orgs.csv", ORGS_COLUMNS, _org_rows(group, trust_name))
    _write(out_dir / "academicSessions.csv", SESSIONS_COLUMNS, _session_rows(year, session_id))
    _write(out_dir / "courses.csv", COURSES_COLUMNS, _course_rows(group, session_id))
    _write(out_dir / "classes.csv", CLASSES_COLUMNS, _class_rows(group, session_id))
    _write(out_dir / "users.csv", USERS_COLUMNS, _user_rows(group))
    _write(out_dir / "enrollments.csv", ENROLLMENTS_COLUMNS, _enrollment_rows(group))
    return out_dir


def _org_rows(group: list[SampleSchool], trust_name: str) -> Iterable[Row]:
    trust_id = ""
    if len(group) > 1:
        trust_id = "org-trust"
        yield {"sourcedId": trust_id, "name": trust_name, "type": "district"}
    for school in group:
        yield {
            "sourcedId": school.org_id,
            "name": school.name,
            "type": "school",
            "identifier": school.dfe_number,
            "parentSourcedId": trust_id,
        }


def _session_rows(year: int, session_id: str) -> Iterable[Row]:
    school_year = str(year + 1)  # OneRoster names the year in which the school year ends
    yield {
        "sourcedId": session_id,
        "title": f"{year}/{(year + 1) % 100:02d}",
        "type": "schoolYear",
        "startDate": f"{year}-09-01",
        "endDate": f"{year + 1}-07-31",
        "schoolYear": school_year,
    }
    terms = [
        ("Autumn", f"{year}-09-01", f"{year}-12-19"),
        ("Spring", f"{year + 1}-01-05", f"{year + 1}-03-27"),
        ("Summer", f"{year + 1}-04-13", f"{year + 1}-07-31"),
    ]
    for number, (title, start, end) in enumerate(terms, start=1):
        yield {
            "sourcedId": f"{session_id}-t{number}",
            "title": title,
            "type": "term",
            "startDate": start,
            "endDate": end,
            "parentSourcedId": session_id,
            "schoolYear": school_year,
        }


def _course_rows(group: list[SampleSchool], session_id: str) -> Iterable[Row]:
    for school in group:
        for course in school.courses:
            yield {
                "sourcedId": course.sourced_id,
                "schoolYearSourcedId": session_id,
                "title": course.title,
                "courseCode": course.course_code,
                "grades": course.grade,
                "orgSourcedId": school.org_id,
                "subjects": course.subject,
            }


def _class_rows(group: list[SampleSchool], session_id: str) -> Iterable[Row]:
    for school in group:
        for c in school.classes:
            yield {
                "sourcedId": c.sourced_id,
                "title": c.title,
                "grades": c.grade,
                "courseSourcedId": c.course_id,
                "classCode": c.title,
                "classType": c.class_type,
                "schoolSourcedId": school.org_id,
                "termSourcedIds": session_id,
                "subjects": c.subject,
            }


def _user_rows(group: list[SampleSchool]) -> Iterable[Row]:
    for school in group:
        left_on = f"{school.academic_year_start}-12-19{LEAVERS_MODIFIED}"
        for p in school.people:
            yield {
                "sourcedId": p.sourced_id,
                "status": p.status,
                "dateLastModified": left_on if p.status else "",
                "enabledUser": "true" if p.enabled else "false",
                "orgSourcedIds": p.org_id,
                "role": p.role,
                "username": p.username,
                "givenName": p.given_name,
                "familyName": p.family_name,
                "identifier": p.identifier,
                "email": p.username,
                "grades": p.grade,
            }


def _enrollment_rows(group: list[SampleSchool]) -> Iterable[Row]:
    for school in group:
        for e in school.enrollments:
            yield {
                "sourcedId": e.sourced_id,
                "classSourcedId": e.class_id,
                "schoolSourcedId": school.org_id,
                "userSourcedId": e.user_id,
                "role": e.role,
                "primary": e.primary,
                "beginDate": e.begin_date,
                "endDate": e.end_date,
            }


def _write(path: Path, columns: str, rows: Iterable[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, columns.split(","), extrasaction="ignore", lineterminator="\r\n"
        )
        writer.writeheader()
        writer.writerows(rows)
