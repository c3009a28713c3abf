"""A made-up UK secondary school (or a trust of several) as a OneRoster 1.1 CSV export.

    python -m local.sample_school --students 2000 --seed 1 --out /tmp/oakfield
    python -m local.sample_school --students 20000 --schools 10 --seed 1 --out /tmp/trust

    school = generate_school(2000, seed=1)
    write_oneroster(school, Path("/tmp/oakfield"))
    emulator_users = school.directory_users()   # the same people, to seed a directory
    tomorrow, changes = next_night(school, seed=2)  # a night's churn, for a second run

Years 7-13 with a smaller sixth form, registration groups (`7A`...), teaching sets named like
`10X/Ma1`, teachers with several sets, a few co-taught classes, aides, pupils who joined or
left mid-year. The same students and seed always give the same bytes.
"""

from local.sample_school.changes import NightChanges, next_night
from local.sample_school.generate import generate_school, generate_trust
from local.sample_school.model import (
    SampleClass,
    SampleCourse,
    SampleEnrollment,
    SamplePerson,
    SampleSchool,
)
from local.sample_school.oneroster import write_oneroster

__all__ = [
    "NightChanges",
    "SampleClass",
    "SampleCourse",
    "SampleEnrollment",
    "SamplePerson",
    "SampleSchool",
    "generate_school",
    "generate_trust",
    "next_night",
    "write_oneroster",
]
