package offload.pgcopy;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.SpecificInternalRow;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * Reads one {@code COPY ... TO STDOUT (FORMAT binary)} stream and decodes each tuple into a reused
 * {@link SpecificInternalRow}. Binary format: an 11-byte signature, int32 flags, int32 header
 * extension length and the extension; then per tuple an int16 field count (-1 ends the data) and per
 * field an int32 length (-1 is NULL) followed by the value in the type's binary send format.
 */
final class CopyReader implements PartitionReader<InternalRow> {
    private static final byte[] SIGNATURE = "PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1);
    /** PostgreSQL counts dates and timestamps from 2000-01-01; Spark from 1970-01-01. */
    static final int PG_EPOCH_DAYS = 10_957;
    static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
    private static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) {
            POW10[i] = POW10[i - 1] * 10;
        }
    }

    private final CopyOptions.Kind[] kinds;
    private final String[] labels;
    private final DataType[] types;
    private final int[] precision;
    private final int[] scale;
    private final SpecificInternalRow row;
    private final Connection conn;
    private final CopyOut copy;
    private byte[] buf = new byte[0];
    private int pos;
    private boolean done;

    CopyReader(StructType schema, CopyOptions options, String sql) {
        kinds = options.kinds;
        labels = options.labels;
        int n = kinds.length;
        types = new DataType[n];
        precision = new int[n];
        scale = new int[n];
        for (int i = 0; i < n; i++) {
            types[i] = schema.fields()[i].dataType();
            if (types[i] instanceof DecimalType d) {
                precision[i] = d.precision();
                scale[i] = d.scale();
            }
        }
        row = new SpecificInternalRow(schema);
        try {
            conn = new org.postgresql.Driver().connect(options.url, options.properties());
            if (conn == null) {
                throw new IllegalArgumentException("offload.pgcopy: not a PostgreSQL JDBC URL");
            }
            try (Statement st = conn.createStatement()) {
                for (String s : options.init) {
                    st.execute(s);
                }
            }
            copy = conn.unwrap(PGConnection.class).getCopyAPI().copyOut(sql);
            readHeader();
        } catch (SQLException e) {
            throw new IllegalStateException("offload.pgcopy: " + e.getMessage(), e);
        }
    }

    private void readHeader() throws SQLException {
        need(SIGNATURE.length + 8);
        if (!Arrays.equals(buf, pos, pos + SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length)) {
            throw new IllegalStateException("offload.pgcopy: not a binary COPY stream");
        }
        pos += SIGNATURE.length + 4; // flags: bit 16 (OIDs) is never set for COPY (SELECT ...)
        int ext = int32();
        need(ext);
        pos += ext;
    }

    /** Makes at least {@code k} unread bytes available in {@code buf} from {@code pos}. */
    private void need(int k) throws SQLException {
        while (buf.length - pos < k) {
            byte[] more = copy.readFromCopy();
            if (more == null) {
                throw new IllegalStateException("offload.pgcopy: the COPY stream ended inside a row");
            }
            int left = buf.length - pos;
            if (left == 0) {
                buf = more;
            } else { // a value split across messages: join the rest with the next message
                byte[] joined = new byte[left + more.length];
                System.arraycopy(buf, pos, joined, 0, left);
                System.arraycopy(more, 0, joined, left, more.length);
                buf = joined;
            }
            pos = 0;
        }
    }

    private int int16() {
        int v = (short) (((buf[pos] & 0xff) << 8) | (buf[pos + 1] & 0xff));
        pos += 2;
        return v;
    }

    private int int32() {
        int v = ((buf[pos] & 0xff) << 24) | ((buf[pos + 1] & 0xff) << 16) | ((buf[pos + 2] & 0xff) << 8) | (buf[pos + 3] & 0xff);
        pos += 4;
        return v;
    }

    private long int64() {
        long hi = int32() & 0xffffffffL;
        long lo = int32() & 0xffffffffL;
        return (hi << 32) | lo;
    }

    @Override
    public boolean next() throws IOException {
        if (done) {
            return false;
        }
        try {
            need(2);
            int fields = int16();
            if (fields == -1) {
                done = true;
                return false;
            }
            if (fields != kinds.length) {
                throw new IllegalStateException("offload.pgcopy: " + fields + " fields in a row, expected " + kinds.length);
            }
            for (int i = 0; i < fields; i++) {
                need(4);
                int len = int32();
                if (len == -1) {
                    row.setNullAt(i);
                    continue;
                }
                need(len);
                int end = pos + len;
                decode(i, len);
                pos = end;
            }
            return true;
        } catch (SQLException e) {
            throw new IOException("offload.pgcopy: " + e.getMessage(), e);
        }
    }

    private void decode(int i, int len) {
        switch (kinds[i]) {
            case INT2 -> row.setInt(i, int16());
            case INT4 -> row.setInt(i, int32());
            case INT8 -> row.setLong(i, int64());
            case FLOAT4 -> row.setFloat(i, Float.intBitsToFloat(int32()));
            case FLOAT8 -> row.setDouble(i, Double.longBitsToDouble(int64()));
            case BOOL -> row.setBoolean(i, buf[pos] != 0);
            case TEXT -> row.update(i, UTF8String.fromBytes(buf, pos, len)); // buf is never written again
            case BYTEA -> row.update(i, Arrays.copyOfRange(buf, pos, pos + len));
            case DATE -> {
                int days = int32();
                if (days == Integer.MAX_VALUE || days == Integer.MIN_VALUE) {
                    throw lossy(i, days > 0 ? "infinity" : "-infinity");
                }
                row.setInt(i, days + PG_EPOCH_DAYS);
            }
            case TIMESTAMP -> {
                long micros = int64();
                if (micros == Long.MAX_VALUE || micros == Long.MIN_VALUE) {
                    throw lossy(i, micros > 0 ? "infinity" : "-infinity");
                }
                if (micros > Long.MAX_VALUE - PG_EPOCH_MICROS) {
                    throw lossy(i, micros + " microseconds after 2000-01-01");
                }
                row.setLong(i, micros + PG_EPOCH_MICROS);
            }
            case NUMERIC -> row.setDecimal(i, numeric(i), precision[i]);
        }
    }

    /**
     * The binary numeric: int16 ndigits, int16 weight (of the first base-10000 digit), uint16 sign
     * (0x0000, 0x4000 negative, 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity), int16 display
     * scale, then ndigits base-10000 digits. Exact: a digit below the column scale, or a value
     * wider than the precision, fails naming the column.
     */
    private Decimal numeric(int i) {
        int ndigits = int16();
        int weight = int16();
        int sign = int16() & 0xffff;
        pos += 2; // display scale: the column's scale decides
        if (sign == 0xC000 || sign == 0xD000 || sign == 0xF000) {
            throw lossy(i, sign == 0xC000 ? "NaN" : sign == 0xD000 ? "Infinity" : "-Infinity");
        }
        int p = precision[i];
        int s = scale[i];
        if (p <= 18) {
            long unscaled = 0;
            for (int d = 0; d < ndigits; d++) {
                int digit = int16();
                int exp = 4 * (weight - d) + s; // power of ten of this digit in the unscaled value
                if (exp >= 0) {
                    if (exp > 18) {
                        throw lossy(i, "a value wider than " + p + " digits");
                    }
                    unscaled = Math.addExact(unscaled, Math.multiplyExact(digit, POW10[exp]));
                } else if (exp > -4) {
                    long div = POW10[-exp];
                    if (digit % div != 0) {
                        throw lossy(i, "a value with more than " + s + " fraction digits");
                    }
                    unscaled += digit / div;
                } else if (digit != 0) {
                    throw lossy(i, "a value with more than " + s + " fraction digits");
                }
            }
            if (unscaled >= POW10[p]) {
                throw lossy(i, "a value wider than " + p + " digits");
            }
            return Decimal.createUnsafe(sign == 0x4000 ? -unscaled : unscaled, p, s);
        }
        BigInteger unscaled = BigInteger.ZERO;
        BigInteger base = BigInteger.valueOf(10_000);
        int lastExp = 0;
        for (int d = 0; d < ndigits; d++) {
            unscaled = unscaled.multiply(base).add(BigInteger.valueOf(int16()));
            lastExp = 4 * (weight - d);
        }
        BigDecimal value = new BigDecimal(unscaled, -lastExp);
        try {
            value = value.setScale(s);
        } catch (ArithmeticException e) {
            throw lossy(i, "a value with more than " + s + " fraction digits");
        }
        if (value.precision() > p && value.unscaledValue().abs().compareTo(BigInteger.TEN.pow(p)) >= 0) {
            throw lossy(i, "a value wider than " + p + " digits");
        }
        return Decimal.apply(sign == 0x4000 ? value.negate() : value, p, s);
    }

    private IllegalStateException lossy(int i, String value) {
        return new IllegalStateException("offload.pgcopy: " + labels[i] + ": value '" + value + "' cannot be archived as "
                + types[i].simpleString() + " without loss");
    }

    @Override
    public InternalRow get() {
        return row;
    }

    @Override
    public void close() throws IOException {
        try {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        } catch (SQLException ignored) {
            // the connection is closed next either way
        } finally {
            try {
                conn.close();
            } catch (SQLException e) {
                throw new IOException(e);
            }
        }
    }
}
