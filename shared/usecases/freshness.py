"""Whether a school's MIS export is stale: from an academic year that has ended, or taken too
long before the run. A stale export is still synced (its data is valid); the run carries a
warning for the admin, because a feed that stopped or an MIS not rolled over looks like this.

    warnings = stale_export_warnings("20250901T220000Z", exported_at, 2025, services.clock())
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

# An export taken longer ago than this is out of date: the MIS export job or its upload to the
# export container has probably stopped. Exports normally arrive every night.
STALE_EXPORT_AGE = timedelta(days=7)
# UK school years start on 1 September; the year named by `academic_year_start` has ended on
# the next year's start date.
ACADEMIC_YEAR_START_MONTH = 9
ACADEMIC_YEAR_START_DAY = 1


def academic_year_end(academic_year_start: int) -> date:
    """The first day after the academic year that starts in `academic_year_start`."""
    return date(academic_year_start + 1, ACADEMIC_YEAR_START_MONTH, ACADEMIC_YEAR_START_DAY)


def stale_export_warnings(
    export_id: str,
    exported_at: datetime,
    academic_year_start: int,
    now: datetime,
) -> list[str]:
    """What is stale about the export, as sentences for the run report; empty when fresh."""
    warnings = []
    ended = academic_year_end(academic_year_start)
    if now.date() >= ended:
        warnings.append(
            f"export {export_id} is for academic year {academic_year_start}/"
            f"{(academic_year_start + 1) % 100:02d}, which ended on "
            f"{(ended - timedelta(days=1)).isoformat()}: roll the MIS over to the new academic "
            "year, or check that its export job reads the current year"
        )
    age = now - exported_at
    if age > STALE_EXPORT_AGE:
        warnings.append(
            f"export {export_id} was taken on {exported_at.date().isoformat()}, {age.days} days "
            f"before this run (more than {STALE_EXPORT_AGE.days}): check that the MIS export "
            "job still runs and uploads to the export container"
        )
    return warnings
