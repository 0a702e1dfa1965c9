package offload.pgcopy;

import java.util.Map;

import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * Spark data source reading PostgreSQL through {@code COPY (SELECT ...) TO STDOUT (FORMAT binary)}
 * instead of JDBC result sets: the server sends its binary send format (no text formatting on the
 * server, no text parsing in the JVM) and each row is decoded straight into Spark's internal row.
 *
 * <p>Used by the archive job (glue/offload_glue/copy_read.py), which passes the schema, one COPY
 * statement per input partition and one decoder kind per column. Options:
 * <ul>
 *   <li>{@code url}, {@code user}, {@code password}, {@code prop.<name>} (driver properties);</li>
 *   <li>{@code init.count}, {@code init.<i>}: statements run first on every session (read-only);</li>
 *   <li>{@code query.count}, {@code query.<i>}: one COPY ... TO STDOUT (FORMAT binary) per partition;</li>
 *   <li>{@code kinds}: comma-separated decoder per column (int2 int4 int8 float4 float8 bool numeric
 *       date timestamp text bytea);</li>
 *   <li>{@code label.<i>}: how an error names column i, e.g. {@code column "amount" (numeric(12,2))}.</li>
 * </ul>
 * Guarantee: every value arrives exactly or the task fails naming the column (NaN/Infinity numerics,
 * infinite dates and timestamps, values outside the Spark type).
 */
public final class PgCopySource implements TableProvider {
    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        throw new IllegalArgumentException("offload.pgcopy needs an explicit schema");
    }

    @Override
    public boolean supportsExternalMetadata() {
        return true;
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        return new PgCopyTable(schema, new CopyOptions(properties));
    }
}
