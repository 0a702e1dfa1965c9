"""Data plane of the Data Retention Offloader: archive, validate and purge relational tables as
Apache Iceberg tables. Pure, importable functions; the Glue entry points in glue/*.py are thin
shells around them, so the same code runs on AWS Glue 5.0 and on local Spark."""
