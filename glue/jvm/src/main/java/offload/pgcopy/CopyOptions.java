package offload.pgcopy;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/** The data source options, parsed once on the driver and shipped to the tasks. */
final class CopyOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    final String url;
    final HashMap<String, String> driverProperties = new HashMap<>();
    final List<String> init;
    final List<String> queries;
    final Kind[] kinds;
    final String[] labels;

    CopyOptions(Map<String, String> raw) {
        Map<String, String> o = new HashMap<>();
        raw.forEach((k, v) -> o.put(k.toLowerCase(Locale.ROOT), v));
        url = required(o, "url");
        driverProperties.put("user", required(o, "user"));
        driverProperties.put("password", o.getOrDefault("password", ""));
        o.forEach((k, v) -> {
            if (k.startsWith("prop.")) {
                // driver property names are case-sensitive; the caller passes them as prop.<name>=<name>=<value>
                int eq = v.indexOf('=');
                driverProperties.put(v.substring(0, eq), v.substring(eq + 1));
            }
        });
        init = numbered(o, "init");
        queries = numbered(o, "query");
        String[] k = required(o, "kinds").split(",");
        kinds = new Kind[k.length];
        labels = new String[k.length];
        for (int i = 0; i < k.length; i++) {
            kinds[i] = Kind.valueOf(k[i].trim().toUpperCase(Locale.ROOT));
            labels[i] = o.getOrDefault("label." + i, "column " + i);
        }
    }

    Properties properties() {
        Properties p = new Properties();
        p.putAll(driverProperties);
        return p;
    }

    private static String required(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("offload.pgcopy: option '" + key + "' is required");
        }
        return v;
    }

    private static List<String> numbered(Map<String, String> o, String prefix) {
        int n = Integer.parseInt(o.getOrDefault(prefix + ".count", "0"));
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(required(o, prefix + "." + i));
        }
        return out;
    }

    enum Kind { INT2, INT4, INT8, FLOAT4, FLOAT8, BOOL, NUMERIC, DATE, TIMESTAMP, TEXT, BYTEA }
}
