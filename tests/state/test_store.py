"""StateStore against Azurite: round trips, ETag conflicts, transactions, runs newest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.state import (
    ConcurrencyError,
    Mapping,
    MappingState,
    Run,
    RunGroupResult,
    RunStatus,
    StateStore,
    UserLink,
)

NIGHT = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)


def _mapping(group_id: str = "10X/Ma1", **fields) -> Mapping:
    return Mapping(
        school_id="4001",
        mis_group_id=group_id,
        academic_year=2025,
        graph_id=fields.pop("graph_id", "11111111-2222-3333-4444-555555555555"),
        unique_key=f"4001-2025-{group_id}",
        kind="teaching",
        name_at_creation=f"{group_id} 4001 2025",
        mail_nickname="10XMa1-4001-2025",
        state=fields.pop("state", MappingState.ACTIVE),
        **fields,
    )


def _count_transactions(store: StateStore, table: str, monkeypatch) -> list[int]:
    sizes: list[int] = []
    client = store._table(table)
    submit = client.submit_transaction

    def counting(operations):
        operations = list(operations)
        sizes.append(len(operations))
        return submit(operations)

    monkeypatch.setattr(client, "submit_transaction", counting)
    return sizes


# Schools ----------------------------------------------------------------------------------------


def test_school_settings_round_trip(store):
    settings = {"kinds": ["year", "teaching"], "name_identifier": "4001", "admins": ["a@x"]}

    store.save_school("4001", settings)
    school = store.get_school("4001")

    assert school.settings == settings
    assert school.enabled is True
    assert school.last_good is None
    assert school.etag


def test_unknown_school_reads_as_none(store):
    assert store.get_school("9999") is None


def test_disabled_schools_are_left_out_of_the_enabled_list(store):
    store.save_school("4001", {})
    store.save_school("4002", {}, enabled=False)

    enabled = [school.school_id for school in store.list_schools()]
    everyone = [school.school_id for school in store.list_schools(enabled_only=False)]

    assert enabled == ["4001"]
    assert everyone == ["4001", "4002"]


def test_last_good_figures_survive_a_later_settings_save(store):
    school = store.save_school("4001", {"kinds": ["year"]})
    store.save_last_good("4001", {"students": 1200, "groups": 85}, school.etag)

    store.save_school("4001", {"kinds": ["year", "registration"]})

    assert store.get_school("4001").last_good == {"students": 1200, "groups": 85}


def test_last_good_figures_from_a_stale_read_are_refused(store):
    read = store.save_school("4001", {})
    store.save_last_good("4001", {"students": 1200}, read.etag)

    with pytest.raises(ConcurrencyError):
        store.save_last_good("4001", {"students": 10}, read.etag)

    assert store.get_school("4001").last_good == {"students": 1200}


# Mappings ---------------------------------------------------------------------------------------


def test_mapping_round_trips_every_field(store):
    created_at = datetime(2025, 9, 1, 2, 0, 0, 123000, tzinfo=UTC)
    mapping = _mapping(
        sync_owners={"u-1", "u-2"},
        held_removals={"u-9"},
        created_at=created_at,
        on_demand=True,
        requested_by="teacher-7",
        description="Maths set 1",
        visibility="Public",
        lifetime="2026-07-31",
        allow_recreate=True,
    )

    store.create_mapping(mapping)
    read = store.get_mapping("4001", "10X/Ma1", 2025)

    assert replace(read, etag=None, updated_at=None) == replace(mapping, updated_at=None)
    assert read.updated_at >= created_at


def test_mapping_without_graph_id_reads_back_as_none(store):
    store.create_mapping(_mapping(graph_id=None, state=MappingState.CREATING))

    assert store.get_mapping("4001", "10X/Ma1", 2025).graph_id is None


def test_same_group_in_another_academic_year_is_a_separate_mapping(store):
    store.create_mapping(_mapping())
    store.create_mapping(replace(_mapping(), academic_year=2026))

    years = sorted(m.academic_year for m in store.list_mappings("4001"))

    assert years == [2025, 2026]


def test_creating_a_mapping_twice_raises_concurrency_error(store):
    store.create_mapping(_mapping())

    with pytest.raises(ConcurrencyError):
        store.create_mapping(_mapping(graph_id="other"))

    assert store.get_mapping("4001", "10X/Ma1", 2025).graph_id != "other"


def test_second_of_two_updates_from_the_same_read_raises_concurrency_error(store):
    store.create_mapping(_mapping())
    first = store.get_mapping("4001", "10X/Ma1", 2025)
    second = store.get_mapping("4001", "10X/Ma1", 2025)
    store.update_mapping(replace(first, sync_owners={"u-1"}))

    with pytest.raises(ConcurrencyError):
        store.update_mapping(replace(second, state=MappingState.MISSING))

    stored = store.get_mapping("4001", "10X/Ma1", 2025)
    assert stored.sync_owners == {"u-1"}
    assert stored.state is MappingState.ACTIVE


def test_update_returns_the_etag_for_the_next_update(store):
    created = store.create_mapping(_mapping())

    updated = store.update_mapping(replace(created, state=MappingState.RETIRED))
    again = store.update_mapping(replace(updated, allow_recreate=True))

    assert again.etag != created.etag
    assert store.get_mapping("4001", "10X/Ma1", 2025).allow_recreate is True


def test_update_without_etag_is_refused(store):
    with pytest.raises(ValueError, match="no ETag"):
        store.update_mapping(_mapping())


def test_250_mappings_are_saved_in_transactions_of_at_most_100(store, monkeypatch):
    sizes = _count_transactions(store, "Mappings", monkeypatch)
    mappings = [_mapping(f"G{n:03d}/x") for n in range(250)]

    saved = store.save_mappings(mappings)

    assert sizes == [100, 100, 50]
    assert len(store.list_mappings("4001")) == 250
    assert all(m.etag for m in saved)


def test_save_mappings_with_a_stale_etag_raises_and_writes_nothing_of_that_transaction(store):
    [one, two] = store.save_mappings([_mapping("A"), _mapping("B")])
    store.update_mapping(replace(two, description="changed elsewhere"))

    with pytest.raises(ConcurrencyError):
        store.save_mappings([replace(one, description="x"), replace(two, description="y")])

    assert store.get_mapping("4001", "A", 2025).description == ""


def test_mappings_of_another_school_are_not_listed(store):
    store.create_mapping(_mapping())
    store.create_mapping(replace(_mapping(), school_id="4002"))

    assert [m.school_id for m in store.list_mappings("4002")] == ["4002"]


# User links -------------------------------------------------------------------------------------


def _links(count: int, confirmed_at: datetime = NIGHT) -> dict[str, UserLink]:
    return {
        f"P{n}/x": UserLink(f"P{n}/x", f"user-{n}", f"p{n}@school.example", confirmed_at)
        for n in range(count)
    }


def test_250_user_links_are_saved_in_transactions_of_at_most_100(store, monkeypatch):
    sizes = _count_transactions(store, "UserLinks", monkeypatch)

    written = store.save_user_links("4001", _links(250))

    assert written == 250
    assert sizes == [100, 100, 50]


def test_user_links_round_trip(store):
    links = _links(3)

    store.save_user_links("4001", links)

    assert store.get_user_links("4001") == links


def test_only_changed_user_links_are_written(store, monkeypatch):
    links = _links(150)
    store.save_user_links("4001", links)
    links["P7/x"] = replace(links["P7/x"], user_id="user-new")
    sizes = _count_transactions(store, "UserLinks", monkeypatch)

    written = store.save_user_links("4001", links)

    assert written == 1
    assert sizes == [1]


def test_a_fresh_store_compares_with_the_stored_links_before_writing(store, azurite):
    store.save_user_links("4001", _links(20))
    fresh = StateStore(azurite.connection_string, table_prefix=store.table_name(""))

    written = fresh.save_user_links("4001", _links(20))

    assert written == 0


def test_deleted_user_links_are_gone(store):
    store.save_user_links("4001", _links(5))

    deleted = store.delete_user_links("4001", ["P1/x", "P2/x", "not-there"])

    assert deleted == 2
    assert sorted(store.get_user_links("4001")) == ["P0/x", "P3/x", "P4/x"]


# Runs -------------------------------------------------------------------------------------------


def test_runs_are_listed_newest_first(store):
    for day in range(5):
        store.start_run("4001", f"night-{day}", "nightly", started_at=NIGHT + timedelta(days=day))

    runs = store.list_runs("4001", limit=3)

    assert [run.run_id for run in runs] == ["night-4", "night-3", "night-2"]


def test_starting_the_same_run_twice_keeps_the_first_start(store):
    first = store.start_run("4001", "r1", "nightly", started_at=NIGHT)

    again = store.start_run("4001", "r1", "on-demand", started_at=NIGHT + timedelta(hours=1))

    assert again.started_at == first.started_at
    assert again.trigger == "nightly"
    assert [run.run_id for run in store.list_runs("4001")] == ["r1"]


def test_finished_run_reads_back_with_status_and_summary(store):
    run = store.start_run("4001", "r1", "nightly", started_at=NIGHT)

    store.update_run(
        replace(run, status=RunStatus.DONE, finished_at=NIGHT + timedelta(minutes=4),
                summary={"groups": 85, "created": 3})
    )  # fmt: skip
    read = store.get_run("4001", "r1")

    assert read.status is RunStatus.DONE
    assert read.summary == {"groups": 85, "created": 3}
    assert read.finished_at == NIGHT + timedelta(minutes=4)


def test_run_update_from_a_stale_read_raises_concurrency_error(store):
    run = store.start_run("4001", "r1", "nightly", started_at=NIGHT)
    store.update_run(replace(run, status=RunStatus.BLOCKED, error="students fell by 40%"))

    with pytest.raises(ConcurrencyError):
        store.update_run(replace(run, status=RunStatus.DONE))

    assert store.get_run("4001", "r1").status is RunStatus.BLOCKED


def test_unknown_run_reads_as_none(store):
    assert store.get_run("4001", "nope") is None


def test_all_runs_of_all_schools_are_listed_newest_first(store):
    store.save_school("4001", {})
    store.save_school("4002", {}, enabled=False)
    store.start_run("4001", "a", "nightly", started_at=NIGHT)
    store.start_run("4002", "b", "nightly", started_at=NIGHT + timedelta(hours=1))
    store.start_run("4001", "c", "nightly", started_at=NIGHT + timedelta(hours=2))

    runs = store.list_all_runs(limit=2)

    assert [(run.school_id, run.run_id) for run in runs] == [("4001", "c"), ("4002", "b")]


def test_a_redelivered_group_result_overwrites_its_own_row(store):
    result = RunGroupResult("4001", "r1", "10X/Ma1", display_name="10X/Ma1 4001 2025",
                            outcome="changed", members_added=3, errors=["boom"])  # fmt: skip

    store.record_group_result(result)
    store.record_group_result(replace(result, members_added=5, errors=[]))

    assert store.list_group_results("4001", "r1") == [replace(result, members_added=5, errors=[])]


def test_group_results_are_listed_for_their_run_only(store):
    for run_id in ("r1", "r10", "r2"):
        store.record_group_result(RunGroupResult("4001", run_id, "7A", outcome="unchanged"))
    store.record_group_result(
        RunGroupResult("4001", "r1", "7B", outcome="created", created=True,
                       started_at=NIGHT, finished_at=NIGHT + timedelta(seconds=2), seconds=2.0)
    )  # fmt: skip

    results = store.list_group_results("4001", "r1")

    assert sorted(r.mis_group_id for r in results) == ["7A", "7B"]
    assert {r.run_id for r in results} == {"r1"}


def test_run_status_must_be_a_known_one():
    with pytest.raises(ValueError, match="expected one of planned, blocked"):
        Run("4001", "r1", "nightly", NIGHT, status="finished")


def _results(run_id: str, count: int, **fields) -> list[RunGroupResult]:
    return [
        RunGroupResult("4001", run_id, f"G{n:03d}", display_name=f"G{n:03d} 4001 2025", **fields)
        for n in range(count)
    ]


def test_250_group_results_are_written_in_three_transactions(store, monkeypatch):
    sizes = _count_transactions(store, "RunGroups", monkeypatch)
    results = _results("r1", 250, outcome="in line")

    written = store.record_group_results(results)

    assert written == 250
    assert sizes == [100, 100, 50]
    stored = sorted(store.list_group_results("4001", "r1"), key=lambda r: r.mis_group_id)
    assert stored == results


def test_a_redelivered_run_overwrites_its_group_results_without_duplicates(store):
    store.record_group_results(_results("r1", 120, outcome="to change", members_added=2))

    store.record_group_results(_results("r1", 120, outcome="in line"))

    stored = store.list_group_results("4001", "r1")
    assert len(stored) == 120
    assert {(r.outcome, r.members_added) for r in stored} == {("in line", 0)}


def test_a_group_given_twice_in_one_call_keeps_its_last_result(store):
    first, second = (
        RunGroupResult("4001", "r1", "7A", outcome="to change"),
        RunGroupResult("4001", "r1", "7A", outcome="in line"),
    )

    written = store.record_group_results([first, second])

    assert written == 1
    assert store.list_group_results("4001", "r1") == [second]


def test_group_results_with_long_errors_are_split_under_the_transaction_payload_limit(
    store, monkeypatch
):
    sizes = _count_transactions(store, "RunGroups", monkeypatch)
    errors = ["x" * 1_000] * 50
    results = _results("r1", 100, outcome="failed", errors=errors)

    store.record_group_results(results)

    assert len(sizes) == 2
    assert sum(sizes) == 100
    assert len(store.list_group_results("4001", "r1")) == 100
