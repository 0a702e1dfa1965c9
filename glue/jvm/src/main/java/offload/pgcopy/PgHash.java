package offload.pgcopy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;

/**
 * PostgreSQL's built-in extended (64-bit, seeded) hash functions, ported so that Spark computes over
 * the archive's values exactly what the source database computes in SQL (validate.py's source-side
 * checksums). These are the functions hash partitioning relies on, so PostgreSQL keeps them stable
 * across versions and platforms of one byte order:
 * <ul>
 *   <li>{@code hash_bytes_extended} / {@code hash_bytes_uint32_extended} (src/common/hashfn.c, Bob
 *       Jenkins' lookup3 with a 64-bit seed; little-endian word order, as on x86-64 and ARM64);</li>
 *   <li>{@code hashint2extended}, {@code hashint4extended}, {@code hashint8extended} (an int8 in the
 *       int4 range hashes as that int4), dates ({@code hashint4extended} of the days since 2000-01-01),
 *       {@code timestamp_hash_extended} (microseconds since 2000-01-01);</li>
 *   <li>{@code hash_numeric_extended}: the base-10000 digits (little-endian int16) without leading and
 *       trailing zero digits, XOR the weight of the first one; zero hashes as {@code seed - 1}. It
 *       ignores the sign, which the row hash adds through the seed (see {@link #numericSeed});</li>
 *   <li>{@code hashtextextended} under a deterministic collation (the SQL says {@code COLLATE "C"}):
 *       the UTF-8 bytes; {@code hashbpcharextended}: the same without trailing blanks.</li>
 * </ul>
 * The row hash ({@link RowHash}) is this class's own combination, written the same way in SQL by
 * validate.py: per field the type's hash with seed {@code position + 1} (a NULL: {@link #nullField}),
 * XORed together, then mixed by {@code hashint4extended(0, xor)} (the XOR as the 64-bit seed), so
 * the sum of row hashes is not linear in the columns (a value moved between rows changes it).
 */
@SuppressWarnings("fallthrough")
public final class PgHash {
    private PgHash() {}

    private static final int INIT = 0x9e3779b9 + 3923095;
    static final int UNIX_TO_PG_DAYS = 10957; // 2000-01-01 - 1970-01-01
    static final long UNIX_TO_PG_MICROS = 946_684_800_000_000L;

    /** hash_bytes_extended over {@code len} bytes of {@code k} from {@code off}. */
    public static long hashBytesExtended(byte[] k, int off, int len, long seed) {
        int a, b, c;
        a = b = c = INIT + len;
        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            // mix(a, b, c)
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
        }
        int p = off;
        int n = len;
        while (n >= 12) {
            a += le32(k, p);
            b += le32(k, p + 4);
            c += le32(k, p + 8);
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
            p += 12;
            n -= 12;
        }
        // the last 11 bytes (the lowest byte of c is reserved for the length)
        switch (n) {
            case 11: c += (k[p + 10] & 0xff) << 24; // fall through
            case 10: c += (k[p + 9] & 0xff) << 16; // fall through
            case 9: c += (k[p + 8] & 0xff) << 8; // fall through
            case 8: b += (k[p + 7] & 0xff) << 24; // fall through
            case 7: b += (k[p + 6] & 0xff) << 16; // fall through
            case 6: b += (k[p + 5] & 0xff) << 8; // fall through
            case 5: b += k[p + 4] & 0xff; // fall through
            case 4: a += (k[p + 3] & 0xff) << 24; // fall through
            case 3: a += (k[p + 2] & 0xff) << 16; // fall through
            case 2: a += (k[p + 1] & 0xff) << 8; // fall through
            case 1: a += k[p] & 0xff; // fall through
            default: break;
        }
        return fin(a, b, c);
    }

    private static int le32(byte[] k, int p) {
        return (k[p] & 0xff) | (k[p + 1] & 0xff) << 8 | (k[p + 2] & 0xff) << 16 | (k[p + 3] & 0xff) << 24;
    }

    private static long fin(int a, int b, int c) {
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);
        return ((long) b << 32) | (c & 0xffffffffL);
    }

    /** hash_bytes_uint32_extended: hashint4extended, hashint2extended, dates. */
    public static long hashUint32Extended(int k, long seed) {
        int a, b, c;
        a = b = c = INIT + 4;
        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
        }
        a += k;
        return fin(a, b, c);
    }

    /** hashint8extended (also timestamp_hash_extended of the PostgreSQL microseconds). */
    public static long hashInt8Extended(long v, long seed) {
        int lo = (int) v;
        int hi = (int) (v >>> 32);
        lo ^= v >= 0 ? hi : ~hi;
        return hashUint32Extended(lo, seed);
    }

    /** hashint4extended of a date given as days since 1970-01-01 (PostgreSQL counts from 2000-01-01). */
    public static long hashDateExtended(long unixDays, long seed) {
        return hashUint32Extended((int) (unixDays - UNIX_TO_PG_DAYS), seed);
    }

    /** timestamp_hash_extended of a timestamp given as microseconds since 1970-01-01. */
    public static long hashTimestampExtended(long unixMicros, long seed) {
        return hashInt8Extended(unixMicros - UNIX_TO_PG_MICROS, seed);
    }

    /** hashtextextended (deterministic collation): the UTF-8 bytes. */
    public static long hashTextExtended(byte[] utf8, long seed) {
        return hashBytesExtended(utf8, 0, utf8.length, seed);
    }

    public static long hashTextExtended(String s, long seed) {
        return hashTextExtended(s.getBytes(StandardCharsets.UTF_8), seed);
    }

    /** hashbpcharextended (deterministic collation): the UTF-8 bytes without trailing blanks. */
    public static long hashBpcharExtended(byte[] utf8, long seed) {
        int n = utf8.length;
        while (n > 0 && utf8[n - 1] == ' ') {
            n--;
        }
        return hashBytesExtended(utf8, 0, n, seed);
    }

    public static long hashBpcharExtended(String s, long seed) {
        return hashBpcharExtended(s.getBytes(StandardCharsets.UTF_8), seed);
    }

    /** hash_numeric_extended of {@code unscaled * 10^-scale} (the sign is not hashed, as in PostgreSQL). */
    public static long hashNumericExtended(long unscaled, int scale, long seed) {
        if (unscaled == 0) {
            return seed - 1;
        }
        if (unscaled == Long.MIN_VALUE) {
            return hashNumericExtended(BigDecimal.valueOf(unscaled, scale), seed);
        }
        long u = Math.abs(unscaled);
        // decimal digits, least significant first: digit i has exponent i - scale
        int[] dec = new int[20];
        int nd = 0;
        while (u != 0) {
            dec[nd++] = (int) (u % 10);
            u /= 10;
        }
        return hashDigits(dec, nd, scale, seed);
    }

    /** hash_numeric_extended of a decimal of any size. */
    public static long hashNumericExtended(BigDecimal v, long seed) {
        if (v.signum() == 0) {
            return seed - 1;
        }
        String s = v.unscaledValue().abs().toString();
        int nd = s.length();
        int[] dec = new int[nd];
        for (int i = 0; i < nd; i++) {
            dec[i] = s.charAt(nd - 1 - i) - '0';
        }
        return hashDigits(dec, nd, v.scale(), seed);
    }

    /** Group the decimal digits (least significant first, digit i worth 10^(i - scale)) into PostgreSQL's
     * base-10000 digits aligned on the decimal point, drop zero digits at both ends, hash the rest as
     * little-endian int16 and XOR the weight (the base-10000 exponent of the first digit). */
    private static long hashDigits(int[] dec, int nd, int scale, long seed) {
        int lowGroup = Math.floorDiv(-scale, 4);
        int highGroup = Math.floorDiv(nd - 1 - scale, 4);
        int groups = highGroup - lowGroup + 1;
        int[] g = new int[groups]; // g[0]: the most significant group
        for (int i = 0; i < nd; i++) {
            int e = i - scale;
            int grp = Math.floorDiv(e, 4);
            int pos = e - 4 * grp;
            g[highGroup - grp] += dec[i] * POW10[pos];
        }
        int start = 0;
        while (start < groups && g[start] == 0) {
            start++;
        }
        if (start == groups) {
            return seed - 1;
        }
        int end = groups;
        while (g[end - 1] == 0) {
            end--;
        }
        int weight = highGroup - start;
        byte[] bytes = new byte[(end - start) * 2];
        for (int i = start; i < end; i++) {
            bytes[(i - start) * 2] = (byte) g[i];
            bytes[(i - start) * 2 + 1] = (byte) (g[i] >>> 8);
        }
        return hashBytesExtended(bytes, 0, bytes.length, seed) ^ (long) weight;
    }

    private static final int[] POW10 = {1, 10, 100, 1000};

    // ---- the row hash --------------------------------------------------------------------------
    /** Seed of the field at {@code position}. */
    public static long fieldSeed(int position) {
        return position + 1L;
    }

    /** Seed of a numeric field: the value's sign selects it, as PostgreSQL's numeric hash has no sign. */
    public static long numericSeed(int position, boolean negative) {
        return negative ? NEGATIVE_SEED + position : fieldSeed(position);
    }

    static final long NEGATIVE_SEED = 0x6e65670000000000L; // "neg"

    /** What a NULL field contributes to the XOR. */
    public static long nullField(int position) {
        return 0x6e756c6c00000000L + position; // "null"
    }

    /** The final mix of the fields' XOR: hashint4extended(0, xor). */
    public static long finish(long xor) {
        return hashUint32Extended(0, xor);
    }

    /**
     * The row hash of a struct of fields, one kind per field (comma-separated spec): {@code int} (an
     * integer as a long), {@code date} (days since 1970 as a long), {@code ts} (microseconds since
     * 1970 as a long), {@code num<scale>} (a decimal's unscaled value as a long), {@code text} and
     * {@code bpchar} (UTF-8 bytes as binary).
     */
    public static final class RowHash implements UDF1<Row, Long> {
        private static final long serialVersionUID = 1L;
        private final int[] kinds;
        private final int[] scales;

        static final int INT = 0, DATE = 1, TS = 2, NUM = 3, TEXT = 4, BPCHAR = 5;

        public RowHash(String spec) {
            String[] parts = spec.isEmpty() ? new String[0] : spec.split(",");
            kinds = new int[parts.length];
            scales = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                String p = parts[i];
                if (p.equals("int")) {
                    kinds[i] = INT;
                } else if (p.equals("date")) {
                    kinds[i] = DATE;
                } else if (p.equals("ts")) {
                    kinds[i] = TS;
                } else if (p.startsWith("num")) {
                    kinds[i] = NUM;
                    scales[i] = Integer.parseInt(p.substring(3));
                } else if (p.equals("text")) {
                    kinds[i] = TEXT;
                } else if (p.equals("bpchar")) {
                    kinds[i] = BPCHAR;
                } else {
                    throw new IllegalArgumentException("unknown field kind " + p);
                }
            }
        }

        @Override
        public Long call(Row row) {
            long x = 0;
            for (int i = 0; i < kinds.length; i++) {
                if (row.isNullAt(i)) {
                    x ^= nullField(i);
                    continue;
                }
                switch (kinds[i]) {
                    case INT: x ^= hashInt8Extended(row.getLong(i), fieldSeed(i)); break;
                    case DATE: x ^= hashDateExtended(row.getLong(i), fieldSeed(i)); break;
                    case TS: x ^= hashTimestampExtended(row.getLong(i), fieldSeed(i)); break;
                    case NUM: {
                        long u = row.getLong(i);
                        x ^= hashNumericExtended(u, scales[i], numericSeed(i, u < 0));
                        break;
                    }
                    case TEXT: x ^= hashTextExtended((byte[]) row.get(i), fieldSeed(i)); break;
                    default: x ^= hashBpcharExtended((byte[]) row.get(i), fieldSeed(i)); break;
                }
            }
            return finish(x);
        }
    }

    /** Register {@code name(struct)} as the row hash of the fields described by {@code spec}. */
    public static void register(SparkSession spark, String name, String spec) {
        spark.udf().register(name, new RowHash(spec), DataTypes.LongType);
    }
}
