"""The archived text of types stored as strings is exactly the form glue/README.md documents: this test
reads the README's "Text forms" table, writes each value on the live servers, archives the table and
compares every archived string with the table's last column."""

from __future__ import annotations

import os
import re

import iceberg_reader
import pytest
from conftest import CATALOG, my_exec, pg_exec
from offload_glue.archive import ArchiveRequest, archive
from offload_glue.names import archive_table_name

README = os.path.join(os.path.dirname(__file__), "..", "README.md")
DB = "text_forms"


def documented_forms() -> dict[str, list[tuple[str, str, str]]]:
    """engine -> [(source type, value SQL, archived text)] from the README's "### Text forms" table."""
    text = open(README, encoding="utf-8").read()
    section = text.split("\n### Text forms\n", 1)[1]
    forms: dict[str, list[tuple[str, str, str]]] = {}
    for line in section.splitlines():
        m = re.fullmatch(r"\| (\w+) \| `(.+?)` \| `(.+?)` \| `(.+?)` \|", line)
        if m:
            forms.setdefault(m.group(1), []).append((m.group(2), m.group(3), m.group(4)))
        elif forms and not line.startswith("|"):
            break  # the table ended
    return forms


FORMS = documented_forms()


def test_the_readme_table_covers_both_engines_and_the_inet_case():
    assert len(FORMS["postgresql"]) >= 20 and len(FORMS["mysql"]) >= 5
    assert ("inet", "'::1'", "::1/128") in FORMS["postgresql"]


def archived_texts(spark, warehouse, conn, schema, forms, **kw) -> list[str]:
    archive(
        spark,
        ArchiveRequest(connection=conn, schema=schema, table="forms", run_id="f-1", catalog=CATALOG, database=DB, **kw),
    )
    name = archive_table_name(schema, "forms")
    [row] = iceberg_reader.rows(warehouse, DB, name)
    return [row[f"c{i}"] for i in range(len(forms))]


@pytest.mark.parametrize("read_path", ["copy", "jdbc"])
def test_postgres_text_forms_are_as_documented(spark, warehouse, pg_db, pg_connection, pg_schema, read_path):
    forms = FORMS["postgresql"]
    cols = ", ".join(f"c{i} {t}" for i, (t, _, _) in enumerate(forms))
    pg_exec(pg_db, f'CREATE TABLE "{pg_schema}".forms (id int PRIMARY KEY, {cols})')
    pg_exec(pg_db, f'INSERT INTO "{pg_schema}".forms VALUES (1, {", ".join(v for _, v, _ in forms)})')
    got = archived_texts(spark, warehouse, pg_connection, pg_schema, forms, read_path=read_path)
    differ = [f"{t} {v}: archived {g!r}, documented {w!r}" for (t, v, w), g in zip(forms, got) if g != w]
    assert not differ, "\n".join(differ)


def test_mysql_text_forms_are_as_documented(spark, warehouse, my_db, my_connection, my_schema):
    forms = FORMS["mysql"]
    cols = ", ".join(f"c{i} {t}" for i, (t, _, _) in enumerate(forms))
    my_exec(my_db, f"CREATE TABLE `{my_schema}`.forms (id int PRIMARY KEY, {cols})")
    my_exec(my_db, f"INSERT INTO `{my_schema}`.forms VALUES (1, {', '.join(v for _, v, _ in forms)})")
    got = archived_texts(spark, warehouse, my_connection, my_schema, forms)
    differ = [f"{t} {v}: archived {g!r}, documented {w!r}" for (t, v, w), g in zip(forms, got) if g != w]
    assert not differ, "\n".join(differ)
