"""Small JDBC sessions on the Spark driver (through py4j, with the same driver jar Spark uses) for
catalog introspection and the aggregate queries the source database computes itself. Every session
runs the engine's read-only session statements first."""

from __future__ import annotations

from .engines import Connection, Engine


def open_connection(spark, engine: Engine, conn: Connection, *, writable: bool = False):
    """A ``java.sql.Connection`` to ``conn`` with its resolved user and password, through the engine's
    JDBC driver (the jar Spark uses): the one way this package opens a connection on the driver. Read-only
    URL and driver properties unless ``writable`` (the source cleanup's session, cleanup.py)."""
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    props.setProperty("user", conn.user)
    props.setProperty("password", conn.password)
    extra = engine.writable_driver_properties() if writable else engine.driver_properties()
    for key, value in extra.items():
        props.setProperty(key, value)
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    driver = jvm.java.lang.Class.forName(engine.driver_class, True, loader).newInstance()
    return driver.connect(engine.writable_url(conn) if writable else engine.url(conn), props)


class Statements:
    """``execute``, ``scalar``, ``close`` and ``with`` over the ``java.sql.Connection`` in ``self._conn``:
    the statement plumbing every driver-side session shares (read, cleanup, restore)."""

    _conn: object

    def execute(self, sql: str) -> None:
        statement = self._conn.createStatement()
        try:
            statement.execute(sql)
        finally:
            statement.close()

    def scalar(self, sql: str) -> str | None:
        """The first column of the first row as text (None: no row or NULL)."""
        statement = self._conn.createStatement()
        try:
            rs = statement.executeQuery(sql)
            return rs.getString(1) if rs.next() else None
        finally:
            statement.close()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class JdbcSession(Statements):
    def __init__(self, spark, engine: Engine, conn: Connection):
        self._conn = open_connection(spark, engine, conn)
        statement = self._conn.createStatement()
        for sql in engine.session_init_statements():
            statement.execute(sql)
        statement.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows as tuples of strings (None for NULL): callers parse what they need."""
        ps = self._conn.prepareStatement(sql)
        try:
            for i, p in enumerate(params, start=1):
                ps.setString(i, p)
            rs = ps.executeQuery()
            n = rs.getMetaData().getColumnCount()
            rows = []
            while rs.next():
                rows.append(tuple(rs.getString(i) for i in range(1, n + 1)))
            return rows
        finally:
            ps.close()

    def query_values(self, sql: str, doubles: set[int] = frozenset()) -> tuple:
        """The first row: strings (None for NULL), except the 0-based columns in ``doubles``, read
        with getDouble (exact; PostgreSQL's NaN and infinities included)."""
        ps = self._conn.prepareStatement(sql)
        try:
            rs = ps.executeQuery()
            if not rs.next():
                return ()
            n = rs.getMetaData().getColumnCount()
            out = []
            for i in range(1, n + 1):
                v = rs.getDouble(i) if i - 1 in doubles else rs.getString(i)
                out.append(None if rs.wasNull() else v)
            return tuple(out)
        finally:
            ps.close()


def read_options(engine: Engine, conn: Connection, fetch_size: int) -> dict[str, str]:
    """Properties for ``spark.read.jdbc``: read-only sessions, tuned fetch size, no credentials in URL."""
    props = {
        "user": conn.user,
        "password": conn.password,
        "driver": engine.driver_class,
        "fetchsize": str(fetch_size),
        "sessionInitStatement": engine.session_init_statement(),
    }
    props.update(engine.driver_properties())
    return props
