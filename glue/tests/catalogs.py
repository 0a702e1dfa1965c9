"""The two catalogs the data-plane suites run on, behind one interface (the ``catalog`` fixture of
conftest.py is parametrized over both):

* ``hadoop`` — a Hadoop Iceberg catalog on the session's local warehouse directory (local runs);
* ``glue``   — Iceberg's GlueCatalog on the moto server's Glue Data Catalog, the warehouse in a moto
               S3 bucket (S3FileIO): the production catalog implementation.

Each gives the tests what they check *independently of the jobs*: the job arguments, a reader
(pyiceberg: the Hadoop catalog's metadata files; on Glue pyiceberg's own Glue catalog, as a consumer
would read), the catalog entry, and the files at a location (the directory; the S3 listing)."""

from __future__ import annotations

import json
import os
import re
import uuid

import iceberg_reader
import pytest
from offload_glue.names import spark_ident

KINDS = ("hadoop", "glue")


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


class CatalogUnderTest:
    kind: str
    name: str  # the Spark catalog the test session registers
    warehouse: str

    def database(self, prefix: str) -> str:
        """A database (Glue database / Iceberg namespace) of this test alone: concurrent sessions share
        the services, so every test names its own."""
        return _unique(prefix)

    def ident(self, database: str, table: str) -> str:
        return spark_ident(self.name, database, table)

    def job_args(self) -> list[str]:
        """The catalog arguments of a job run as a subprocess (its own Spark, catalog name left default)."""
        return ["--catalog_type", self.kind, "--warehouse", self.warehouse]

    def rows(self, database: str, table: str) -> list[dict]:
        return self.load(database, table).scan().to_arrow().to_pylist()

    def contains(self, location: str, needle: bytes) -> list[str]:
        """The files at ``location`` whose bytes contain ``needle``."""
        return [f for f in self.files(location) if needle in self.read(f)]

    # implemented per kind
    def load(self, database: str, table: str): ...
    def exists(self, database: str, table: str) -> bool: ...
    def metadata_files(self, database: str, table: str) -> list[str]: ...
    def latest_metadata(self, database: str, table: str) -> dict: ...
    def location(self, database: str, table: str) -> str: ...
    def database_files(self, database: str) -> list[str]: ...
    def files(self, location: str) -> list[str]: ...
    def read(self, path: str) -> bytes: ...
    def write(self, path: str, data: bytes) -> None: ...
    def delete(self, path: str) -> None: ...
    def records_dir(self, tmp_path) -> str: ...


class LocalCatalog(CatalogUnderTest):
    kind = "hadoop"

    def __init__(self, name: str, warehouse: str):
        self.name, self.warehouse = name, warehouse

    def load(self, database, table):
        return iceberg_reader.load(self.warehouse, database, table)

    def exists(self, database, table):
        return bool(self.metadata_files(database, table))

    def metadata_files(self, database, table):
        return iceberg_reader.metadata_files(self.warehouse, database, table)

    def latest_metadata(self, database, table):
        with open(self.metadata_files(database, table)[-1]) as fh:
            return json.load(fh)

    def location(self, database, table):
        return os.path.join(self.warehouse, database, table)

    def database_files(self, database):
        return self.files(os.path.join(self.warehouse, database))

    def files(self, location):
        return sorted(os.path.join(d, f) for d, _, names in os.walk(location) for f in names)

    def read(self, path):
        with open(path, "rb") as fh:
            return fh.read()

    def write(self, path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)

    def delete(self, path):
        os.remove(path)

    def records_dir(self, tmp_path):
        return str(tmp_path)


def _split(uri: str) -> tuple[str, str]:
    m = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    assert m, f"not an s3:// URI: {uri}"
    return m.group(1), m.group(2)


class GlueS3Catalog(CatalogUnderTest):
    kind = "glue"

    def __init__(self, glue: dict):
        import boto3

        self.name, self.bucket, self.warehouse = glue["catalog"], glue["bucket"], glue["warehouse"]
        self.env = glue["env"]
        self.s3 = boto3.client("s3")
        self.glue = boto3.client("glue")
        self._consumer = None

    def consumer(self):
        """pyiceberg's own Glue catalog on the same moto server: an independent reader."""
        if self._consumer is None:
            from pyiceberg.catalog.glue import GlueCatalog

            env = self.env
            creds = {"region": env["AWS_REGION"], "access-key-id": env["AWS_ACCESS_KEY_ID"]}
            creds["secret-access-key"] = env["AWS_SECRET_ACCESS_KEY"]
            props = {f"{svc}.{k}": v for svc in ("glue", "s3") for k, v in creds.items()}
            props.update({"glue.endpoint": env["AWS_ENDPOINT_URL"], "s3.endpoint": env["AWS_ENDPOINT_URL"]})
            self._consumer = GlueCatalog("consumer", **props)
        return self._consumer

    def load(self, database, table):
        return self.consumer().load_table(f"{database}.{table}")

    def _glue_table(self, database, table) -> dict | None:
        try:
            return self.glue.get_table(DatabaseName=database, Name=table)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def exists(self, database, table):
        return self._glue_table(database, table) is not None

    def metadata_files(self, database, table):
        entry = self._glue_table(database, table)
        if entry is None:
            return []
        metadata = entry["StorageDescriptor"]["Location"].rstrip("/") + "/metadata/"
        found = [f for f in self.files(metadata) if f.endswith(".metadata.json")]
        return sorted(found, key=lambda f: int(f.rsplit("/", 1)[1].split("-", 1)[0]))

    def latest_metadata(self, database, table):
        """The metadata file the Glue table points at (its current version)."""
        entry = self._glue_table(database, table)
        assert entry is not None, f"no Glue table {database}.{table}"
        return json.loads(self.read(entry["Parameters"]["metadata_location"]))

    def location(self, database, table):
        entry = self._glue_table(database, table)
        assert entry is not None, f"no Glue table {database}.{table}"
        return entry["StorageDescriptor"]["Location"].rstrip("/")

    def database_files(self, database):
        # GlueCatalog's default table location is <warehouse>/<database>.db/<table>; the test's own
        # database name is unique, so the prefix holds nothing else
        return self._list(f"{self.warehouse}/{database}")

    def files(self, location):
        """Every object under the location (a directory: the prefix ends with a slash, so a table
        ``t`` never lists a table ``t2``)."""
        return self._list(location.rstrip("/") + "/")

    def _list(self, uri: str) -> list[str]:
        bucket, prefix = _split(uri)
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(f"s3://{bucket}/{o['Key']}" for page in pages for o in page.get("Contents", []))

    def read(self, path):
        bucket, key = _split(path)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def write(self, path, data):
        bucket, key = _split(path)
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def delete(self, path):
        bucket, key = _split(path)
        self.s3.delete_object(Bucket=bucket, Key=key)

    def records_dir(self, tmp_path):
        return f"s3://{self.bucket}/records/{_unique(tmp_path.name)}"


def on_catalogs(cases: list, glue: list | None = None, ids=None) -> list:
    """Parameters ``(catalog, *case)``: every case on ``hadoop``; on ``glue`` the cases in ``glue``
    (all when ``None``) — for large matrices whose catalog-independent part needs no second run."""
    ids = ids or [str(c) for c in cases]
    chosen = cases if glue is None else glue
    out = []
    for kind in KINDS:
        for case, case_id in zip(cases, ids, strict=True):
            if kind == "glue" and case not in chosen:
                continue
            values = case if isinstance(case, tuple) else (case,)
            out.append(pytest.param(kind, *values, id=f"{kind}-{case_id}"))
    return out


hadoop_only = pytest.mark.parametrize("catalog", ["hadoop"], indirect=True)
glue_only = pytest.mark.parametrize("catalog", ["glue"], indirect=True)
