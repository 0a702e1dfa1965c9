"""Purge refuses under legal hold, before the retention end and when no end is known (the last two
unless forced with a reason; a hold never), decides against the real clock, leaves no file at the
table location when it runs (orphans of killed writes included), and always writes an audit record
valid against schema/purge-audit.schema.json. The archive records the legal hold in the same commit
as its data, re-archiving keeps the stricter hold, and only the hold job, given a config commit,
lifts it. The tests run on both catalogs (``catalog`` fixture): the local Hadoop warehouse and the
Glue Data Catalog with the warehouse and the audit records in S3 (moto); "nothing remains" is checked
by listing the directory, or S3 itself. Large matrices run a subset on Glue (see on_catalogs)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from catalogs import hadoop_only, on_catalogs
from conftest import pg_exec
from jsonschema import Draft202012Validator
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.errors import OffloadError
from offload_glue.iceberg_table import table_properties
from offload_glue.names import archive_table_name
from offload_glue.purge import PurgeRequest, purge

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA = json.load(open(os.path.join(ROOT, "schema", "purge-audit.schema.json")))
TODAY = datetime.now(UTC).date()


@pytest.fixture()
def db(catalog) -> str:
    return catalog.database("purge")


@pytest.fixture()
def archived(spark, catalog, db, pg_db, pg_connection, pg_schema):
    def make(table, run_id="p-1", create=True, **kw):
        if create:
            pg_exec(
                pg_db,
                f'CREATE TABLE "{pg_schema}"."{table}" AS SELECT g AS id, md5(g::text) AS v '
                "FROM generate_series(1, 100) g",
            )
        kw.setdefault("legal_hold", False)
        archive(
            spark,
            ArchiveRequest(
                connection=pg_connection,
                schema=pg_schema,
                table=table,
                run_id=run_id,
                catalog=catalog.name,
                database=db,
                **kw,
            ),
        )
        name = kw.get("archive_table") or archive_table_name(pg_schema, table)
        return name, catalog.location(db, name)

    return make


@pytest.fixture()
def records(catalog, tmp_path) -> str:
    """Where the purge writes its audit records: a local directory, or an S3 prefix on Glue."""
    return catalog.records_dir(tmp_path)


def audit(catalog, record):
    assert record["audit_record"], record
    written = json.loads(catalog.read(record["audit_record"]))
    Draft202012Validator(SCHEMA).validate(written)
    return written


def still_there(spark, catalog, db, name):
    return table_properties(spark, catalog.ident(db, name)) is not None and catalog.exists(db, name)


def request(catalog, db, name, records, **kw):
    kw.setdefault("legal_hold", False)
    return PurgeRequest(archive_table=name, catalog=catalog.name, database=db, audit_path=records, **kw)


REFUSALS = ["legal hold asked", "legal hold in lineage", "before retention end", "retention end unknown"]


@pytest.mark.parametrize("catalog,case", on_catalogs(REFUSALS), indirect=["catalog"])
def test_purge_refuses(spark, catalog, db, archived, records, case):
    retention = None if case == "retention end unknown" else "2020-01-01"
    name, _ = archived("t", legal_hold=case == "legal hold in lineage", retention_until=retention)
    as_of = "2019-12-31" if case == "before retention end" else None
    record = purge(spark, request(catalog, db, name, records, as_of=as_of, legal_hold=case == "legal hold asked"))
    want = {
        "legal hold asked": "legal_hold",
        "legal hold in lineage": "legal_hold",
        "before retention end": "retention_not_reached",
        "retention end unknown": "retention_end_unknown",
    }[case]
    assert record["status"] == "refused" and record["refusal_reasons"] == [want]
    assert still_there(spark, catalog, db, name)
    assert audit(catalog, record)["status"] == "refused"


def test_purge_after_retention_end_removes_every_file_orphans_included(spark, catalog, db, archived, records):
    name, location = archived("t", retention_until="2020-01-01")
    orphan = location + "/data/00000-0-orphan-from-a-killed-write.parquet"
    catalog.write(orphan, b"PAR1 not referenced by any snapshot")
    before = catalog.files(location)
    assert len(before) > 3 and orphan in before
    record = purge(spark, request(catalog, db, name, records))
    assert record["status"] == "purged" and record["files_remaining"] == 0 and record["rows"] == 100
    # the orphan was counted, then removed (Hadoop's hidden .crc checksum files are not counted)
    assert record["files_before"] == len([f for f in before if not os.path.basename(f).startswith(".")])
    assert catalog.files(location) == [], "nothing remains at the location (the directory, or S3 itself)"
    assert not still_there(spark, catalog, db, name)
    written = audit(catalog, record)
    assert written["lineage"]["source.table"] == "t" and written["lineage"]["run_id"] == "p-1"
    assert written["legal_hold"] is False and written["legal_hold_recorded"] == "false"


def test_forced_purge_before_retention_end_records_the_reason(spark, catalog, db, archived, records):
    name, location = archived("t", retention_until="2099-01-01")
    reason = "records officer approval RO-2026-17"
    record = purge(spark, request(catalog, db, name, records + "/a.json", force_reason=reason))
    assert record["status"] == "purged"
    assert record["refusal_reasons"] == ["retention_not_reached"]
    assert record["forced_reason"] == reason
    assert catalog.files(location) == []
    assert record["audit_record"] == records + "/a.json"
    assert audit(catalog, record)["forced_reason"] == reason


def test_archive_records_the_legal_hold_in_its_commit_and_rearchiving_keeps_the_stricter(catalog, db, archived):
    name, _ = archived("t", legal_hold=True, legal_hold_reason="LIT-2026-014", config_commit="c1")
    meta = catalog.latest_metadata(db, name)
    current = [s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"]][0]
    # the snapshot that added the rows carries the hold: recorded in the same atomic commit
    assert current["summary"]["offload.legal_hold"] == "true" and int(current["summary"]["added-records"]) == 100
    assert meta["properties"]["offload.legal_hold"] == "true"
    assert meta["properties"]["offload.legal_hold_reason"] == "LIT-2026-014"
    # a new run whose config no longer holds (or does not say) cannot lift the hold
    for run_id, hold in (("p-2", False), ("p-3", None)):
        archived("t", run_id=run_id, create=False, legal_hold=hold, config_commit="c2")
        props = catalog.latest_metadata(db, name)["properties"]
        assert props["offload.run_id"] == run_id
        assert props["offload.legal_hold"] == "true" and props["offload.legal_hold_reason"] == "LIT-2026-014"


def test_archive_without_a_hold_value_records_unknown_and_a_later_hold_wins(catalog, db, archived):
    name, _ = archived("t", legal_hold=None)
    assert catalog.latest_metadata(db, name)["properties"]["offload.legal_hold"] == "unknown"
    archived("t", run_id="p-2", create=False, legal_hold=False)
    assert catalog.latest_metadata(db, name)["properties"]["offload.legal_hold"] == "unknown"
    archived("t", run_id="p-3", create=False, legal_hold=True)
    assert catalog.latest_metadata(db, name)["properties"]["offload.legal_hold"] == "true"


HOLDS = [
    (True, "false"),
    (False, "true"),
    (False, None),  # no recorded value (an archive written before holds were recorded)
    (False, "unknown"),
    (False, "yes"),
    (False, "TRUE"),
    (False, ""),
]


@pytest.mark.parametrize(
    "catalog,config_hold,recorded",
    on_catalogs(HOLDS, glue=[(True, "false"), (False, "true"), (False, None)], ids=[f"{h}-{r}" for h, r in HOLDS]),
    indirect=["catalog"],
)
def test_a_legal_hold_wins_over_every_force_and_unrecognised_values_hold(
    spark, catalog, db, archived, records, config_hold, recorded
):
    name, _ = archived("t", retention_until="2099-01-01")
    ident = catalog.ident(db, name)
    if recorded is None:
        spark.sql(f"ALTER TABLE {ident} UNSET TBLPROPERTIES ('offload.legal_hold')")
    else:
        spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ('offload.legal_hold' = '{recorded}')")
    for force in (None, "the business asked for it"):
        record = purge(spark, request(catalog, db, name, records, legal_hold=config_hold, force_reason=force))
        assert record["status"] == "refused" and "legal_hold" in record["refusal_reasons"]
        assert record["legal_hold"] is True and record["forced_reason"] is None
        assert still_there(spark, catalog, db, name)
        written = audit(catalog, record)
        assert written["legal_hold_recorded"] == recorded and written["legal_hold_config"] is config_hold
        if force:
            assert written["force_reason_not_applied"] == force


def test_only_the_hold_job_with_a_later_config_commit_lifts_a_recorded_hold(spark, catalog, db, archived, records):
    from offload_glue.hold import HoldRequest, set_legal_hold

    name, location = archived(
        "t", legal_hold=True, legal_hold_reason="LIT-1", retention_until="2020-01-01", config_commit="c1"
    )
    assert purge(spark, request(catalog, db, name, records, legal_hold=False))["status"] == "refused"

    def hold(**kw):
        return set_legal_hold(spark, HoldRequest(archive_table=name, catalog=catalog.name, database=db, **kw))

    with pytest.raises(OffloadError) as err:
        hold(legal_hold=False, config_commit="")
    assert err.value.code == "hold_lift_needs_config_commit"
    with pytest.raises(OffloadError) as err:
        hold(legal_hold=False, config_commit="c1")  # the commit that recorded the hold cannot lift it
    assert err.value.code == "hold_lift_needs_config_commit"
    assert catalog.latest_metadata(db, name)["properties"]["offload.legal_hold"] == "true"

    lifted = hold(legal_hold=False, config_commit="c2", reason="LIT-1 closed: the court's order \\ 7")
    assert lifted["legal_hold_before"] == "true" and lifted["legal_hold"] == "false"
    props = catalog.latest_metadata(db, name)["properties"]
    assert props["offload.legal_hold"] == "false" and props["offload.legal_hold_config_commit"] == "c2"
    assert props["offload.legal_hold_reason"] == "LIT-1 closed: the court's order \\ 7"  # quoted exactly
    # a hold set again by a later config holds again
    hold(legal_hold=True, config_commit="c3", reason="LIT-2")
    assert purge(spark, request(catalog, db, name, records, legal_hold=False))["status"] == "refused"
    hold(legal_hold=False, config_commit="c4")
    record = purge(spark, request(catalog, db, name, records, legal_hold=False))
    assert record["status"] == "purged" and record["refusal_reasons"] == []
    assert not still_there(spark, catalog, db, name)
    assert catalog.files(location) == []


def test_purge_decides_against_the_real_clock(spark, catalog, db, archived, records):
    # retention ends tomorrow: a decision dated after today would purge early
    name, _ = archived("t", retention_until=(TODAY + timedelta(days=1)).isoformat())
    for as_of in ((TODAY + timedelta(days=1)).isoformat(), "2030-01-01", "9999-12-31"):
        with pytest.raises(OffloadError) as err:
            purge(spark, request(catalog, db, name, records, as_of=as_of))
        assert err.value.code == "as_of_in_future" and as_of in str(err.value)
    for as_of in ("2030-13-01", "2026-12-02junk", "yesterday"):
        with pytest.raises(OffloadError) as err:
            purge(spark, request(catalog, db, name, records, as_of=as_of))
        assert err.value.code == "bad_argument" and "as_of" in str(err.value)
    assert still_there(spark, catalog, db, name)
    assert catalog.files(records) == []  # no decision, no audit record
    record = purge(spark, request(catalog, db, name, records, as_of=TODAY.isoformat()))
    assert record["status"] == "refused" and record["refusal_reasons"] == ["retention_not_reached"]


@hadoop_only
def test_an_earlier_decision_date_is_allowed_and_stricter(spark, catalog, db, archived, records):
    name, _ = archived("t", retention_until="2021-06-01")
    assert purge(spark, request(catalog, db, name, records, as_of="2021-05-31"))["status"] == "refused"
    assert purge(spark, request(catalog, db, name, records, as_of="2021-06-01"))["status"] == "purged"


@pytest.mark.parametrize("catalog,recorded", on_catalogs(["someday", "2021-02-30"], glue=[]), indirect=["catalog"])
def test_an_unreadable_recorded_retention_end_counts_as_unknown(spark, catalog, db, archived, records, recorded):
    name, _ = archived("t", retention_until="2020-01-01")
    spark.sql(f"ALTER TABLE {catalog.ident(db, name)} SET TBLPROPERTIES ('offload.retention_until' = '{recorded}')")
    record = purge(spark, request(catalog, db, name, records))
    assert record["status"] == "refused" and record["refusal_reasons"] == ["retention_end_unknown"]


@pytest.mark.parametrize(
    "catalog,value", on_catalogs(["false", "true", "no", 0, None], glue=["false"]), indirect=["catalog"]
)
def test_the_current_configs_hold_must_be_a_boolean(spark, catalog, db, archived, records, value):
    name, _ = archived("t", retention_until="2020-01-01")
    with pytest.raises(OffloadError) as err:
        purge(spark, request(catalog, db, name, records, legal_hold=value))
    assert err.value.code == "bad_argument" and "legal_hold" in str(err.value)
    assert still_there(spark, catalog, db, name)


@hadoop_only
def test_archive_refuses_a_bad_retention_end(archived):
    with pytest.raises(OffloadError) as err:
        archived("t", retention_until="2033-02-30")
    assert err.value.code == "bad_argument" and "retention_until" in str(err.value)


def test_a_rerun_of_the_same_run_records_a_stricter_hold(catalog, db, archived):
    name, _ = archived("t", legal_hold=False)
    archived("t", create=False, legal_hold=True, legal_hold_reason="LIT-9")
    props = catalog.latest_metadata(db, name)["properties"]
    assert props["offload.run_id"] == "p-1" and props["offload.legal_hold"] == "true"
    assert props["offload.legal_hold_reason"] == "LIT-9"


@pytest.mark.parametrize("catalog,hold", on_catalogs([True, None], glue=[True]), indirect=["catalog"])
def test_a_held_archive_is_never_replaced_by_another_source_even_when_forced(
    catalog, db, pg_db, pg_schema, archived, hold
):
    shared = f"shared_{str(hold).lower()}"
    archived("a", archive_table=shared, legal_hold=hold)
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}"."b" AS SELECT 1 AS id')
    with pytest.raises(OffloadError) as err:
        archived("b", create=False, archive_table=shared, force_reason="a was renamed to b", legal_hold=False)
    assert err.value.code == "legal_hold" and shared in str(err.value)
    meta = catalog.latest_metadata(db, shared)
    assert meta["properties"]["offload.source.table"] == "a"
