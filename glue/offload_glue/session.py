"""Spark session and Iceberg catalog set-up. The catalog is a job argument:
* ``glue``   — AWS Glue Data Catalog with S3 (``org.apache.iceberg.aws.glue.GlueCatalog``), the
               warehouse an ``s3://`` URI; on Glue 5.0 pass ``--datalake-formats iceberg``;
* ``hadoop`` — a Hadoop catalog on a warehouse directory, for local Spark and the tests.
"""

from __future__ import annotations

import glob
import os

from . import timings
from .errors import OffloadError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOCAL_JARS_DIR = os.environ.get("OFFLOAD_JARS_DIR", os.path.join(ROOT, ".cache", "jars"))


# Arrow (inside Iceberg's vectorized Parquet reader, with its shaded Netty) needs reflective access to
# direct buffers on Java 17; without it Netty computes wrong buffer addresses and the JVM crashes.
JVM_OPTIONS = " ".join(
    [
        "-Duser.timezone=UTC",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dorg.apache.iceberg.shaded.io.netty.tryReflectionSetAccessible=true",
    ]
)


# The local driver's collector. With Java's default (G1 on two or more cores) the heap grows towards its 2 GiB limit
# whenever the GC threads fall behind, which on a busy machine is most of a run: a whole-process archive of the
# peer benchmark peaked at 1.6-3.4 GiB with G1 and 0.7 GiB with the serial collector, which also used less CPU
# (glue/README.md, Peer benchmark). Local runs only: on Glue the JVM is Glue's.
LOCAL_DRIVER_GC = "-XX:+UseSerialGC"


def aws_endpoint(service: str, env: dict | None = None) -> str | None:
    """The endpoint override for one AWS service, as the AWS SDKs read it: ``AWS_ENDPOINT_URL_<SERVICE>``,
    else ``AWS_ENDPOINT_URL`` (an emulator such as moto in the tests; never set on Glue)."""
    env = os.environ if env is None else env
    return env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL") or None


def aws_region(env: dict | None = None) -> str | None:
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None


def iceberg_aws_properties(env: dict | None = None) -> dict[str, str]:
    """Iceberg AWS client properties (GlueCatalog, S3FileIO) from the standard environment: endpoint
    overrides with path-style S3 addressing when an endpoint is overridden, and the region."""
    props: dict[str, str] = {}
    glue, s3 = aws_endpoint("glue", env), aws_endpoint("s3", env)
    if glue:
        props["glue.endpoint"] = glue
    if s3:
        props["s3.endpoint"] = s3
        props["s3.path-style-access"] = "true"
    region = aws_region(env)
    if region:
        props["client.region"] = region
    return props


def catalog_conf(catalog: str, catalog_type: str, warehouse: str) -> dict[str, str]:
    prefix = f"spark.sql.catalog.{catalog}"
    conf = {prefix: "org.apache.iceberg.spark.SparkCatalog", f"{prefix}.warehouse": warehouse}
    # CREATE/REPLACE TABLE AS SELECT keeps the query's nullability: NOT NULL columns become required
    # fields (fields.py); Iceberg's default (true) would make every field optional.
    conf[f"{prefix}.use-nullable-query-schema"] = "false"
    if catalog_type == "glue":
        conf[f"{prefix}.catalog-impl"] = "org.apache.iceberg.aws.glue.GlueCatalog"
        conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
        for key, value in iceberg_aws_properties().items():
            conf[f"{prefix}.{key}"] = value
    elif catalog_type == "hadoop":
        conf[f"{prefix}.type"] = "hadoop"
    else:
        raise OffloadError(
            "bad_argument", f"--catalog_type must be glue or hadoop, not {catalog_type!r}", argument="catalog_type"
        )
    return conf


# Settings spark-submit decides (from its command line) and a job must not override.
SUBMIT_OWNED = {"spark.master", "spark.jars", "spark.driver.extraClassPath", "spark.driver.memory"}


def local_spark_conf(cores: int = 2, driver_memory: str = "2g", require_jars: bool = True) -> dict[str, str]:
    """Local Spark in UTC with the jars from glue/pom.xml (downloaded by scripts/pyenv.sh) on its class path."""
    from .cds import jvm_options

    jars = sorted(glob.glob(os.path.join(LOCAL_JARS_DIR, "*.jar")))
    if not jars and require_jars:
        raise RuntimeError(f"no jars in {LOCAL_JARS_DIR}: run scripts/pyenv.sh first")
    return {
        "spark.master": f"local[{cores}]",
        # The jars go on the driver JVM's class path only, which in local mode is the executors' too. Not in
        # spark.jars: Spark would copy all of them (about 90 MB) through its file server into the job's
        # userFiles directory at the first task, and delete them again at exit, in every run.
        "spark.driver.extraClassPath": ":".join(jars),
        "spark.driver.memory": driver_memory,
        # The class-data archive of cds.py when built for this class path: the same classes, loaded faster.
        "spark.driver.extraJavaOptions": f"{JVM_OPTIONS} {LOCAL_DRIVER_GC}" + jvm_options(jars),
        "spark.executor.extraJavaOptions": JVM_OPTIONS,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(max(2, cores * 2)),
        "spark.sql.caseSensitive": "true",
        "spark.ui.enabled": "false",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        # Iceberg's Arrow-based vectorized Parquet reader corrupts native memory on this local
        # Java 17 set-up (SIGSEGV in its shaded Netty); the row reader is exact and fast enough.
        "spark.sql.iceberg.vectorization.enabled": "false",
    }


def get_spark(
    catalog: str, catalog_type: str, warehouse: str, app_name: str = "offload", local_conf: dict | None = None
):
    """The job's Spark session: Glue's when running on Glue, else a local one. Catalog settings are
    applied at runtime (Iceberg catalogs are resolved lazily by name)."""
    from pyspark.sql import SparkSession

    try:
        from awsglue.context import GlueContext  # noqa: F401  (present only on Glue)
        from pyspark.context import SparkContext

        spark = GlueContext(SparkContext.getOrCreate()).spark_session
    except ImportError:
        builder = SparkSession.builder.appName(app_name)
        if os.environ.get("PYSPARK_GATEWAY_PORT") and not local_conf:
            # Started by spark-submit (a packaged run, a cluster): master, jars and memory are its own;
            # only the settings the jobs rely on are added.
            conf = {k: v for k, v in local_spark_conf(require_jars=False).items() if k not in SUBMIT_OWNED}
        else:
            conf = local_conf or local_spark_conf()
        for key, value in conf.items():
            builder = builder.config(key, value)
        _launch_jvm({"spark.app.name": app_name, **conf})
        spark = builder.getOrCreate()
    timings.mark("spark_session")
    for key, value in catalog_conf(catalog, catalog_type, warehouse).items():
        spark.conf.set(key, value)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.caseSensitive", "true")
    # JDBC CHAR(n) columns must not be re-padded by Spark: the archive keeps what the source returns.
    spark.conf.set("spark.sql.legacy.charVarcharAsString", "true")
    timings.mark("catalog_conf")
    return spark


def _launch_jvm(conf: dict) -> None:
    """Starts the driver JVM (spark-submit and the py4j gateway) with the session's settings, as the
    session builder would, so that the JVM's launch is timed apart from the Spark session's set-up."""
    from pyspark import SparkConf
    from pyspark.context import SparkContext

    if SparkContext._gateway is None:
        SparkContext._ensure_initialized(conf=SparkConf().setAll(conf.items()))
    timings.mark("jvm")
