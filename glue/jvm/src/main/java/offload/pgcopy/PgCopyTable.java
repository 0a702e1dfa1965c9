package offload.pgcopy;

import java.util.EnumSet;
import java.util.Set;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/** One batch scan with one input partition per COPY statement. */
final class PgCopyTable implements SupportsRead {
    private final StructType schema;
    private final CopyOptions options;

    PgCopyTable(StructType schema, CopyOptions options) {
        if (schema.length() != options.kinds.length) {
            throw new IllegalArgumentException("offload.pgcopy: " + schema.length() + " columns in the schema but "
                    + options.kinds.length + " kinds");
        }
        this.schema = schema;
        this.options = options;
    }

    @Override
    public String name() {
        return "offload.pgcopy";
    }

    @Override
    @SuppressWarnings("deprecation") // Spark 3.5 still calls schema(); columns() derives from it
    public StructType schema() {
        return schema;
    }

    @Override
    public Set<TableCapability> capabilities() {
        return EnumSet.of(TableCapability.BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap ignored) {
        return () -> new CopyScan(schema, options);
    }

    record CopyScan(StructType schema, CopyOptions options) implements Scan, Batch {
        @Override
        public StructType readSchema() {
            return schema;
        }

        @Override
        public Batch toBatch() {
            return this;
        }

        @Override
        public InputPartition[] planInputPartitions() {
            return options.queries.stream().map(CopyPartition::new).toArray(InputPartition[]::new);
        }

        @Override
        public PartitionReaderFactory createReaderFactory() {
            return new Factory(schema, options);
        }
    }

    record CopyPartition(String sql) implements InputPartition {
    }

    record Factory(StructType schema, CopyOptions options) implements PartitionReaderFactory {
        @Override
        public PartitionReader<InternalRow> createReader(InputPartition partition) {
            return new CopyReader(schema, options, ((CopyPartition) partition).sql());
        }
    }
}
