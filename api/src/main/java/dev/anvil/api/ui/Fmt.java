package dev.anvil.api.ui;

import io.quarkus.qute.TemplateExtension;
import java.util.Locale;

/** How the reviewer UI writes numbers, states and ids; used in the templates as {@code fmt:num(x)} and so on. */
@TemplateExtension(namespace = "fmt")
final class Fmt {
    private Fmt() {
    }

    /** Whole numbers with thousands separators, others to four significant digits; a dash for none. */
    static String num(Object v) {
        if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return String.format(Locale.ROOT, "%,d", (long) d);
            }
            return String.format(Locale.ROOT, "%.4g", d);
        }
        return v == null ? "–" : v.toString();
    }

    /** A state as words: {@code upstream_failed} reads "upstream failed". */
    static String state(String state) {
        return state == null ? "" : state.replace('_', ' ');
    }

    /** Artifacts by a short sha256, task runs as such (lineage node ids are one or the other). */
    static String shortId(String id) {
        if (id != null && id.length() == 64) {
            return id.substring(0, 12) + "…";
        }
        return id != null && !id.isEmpty() && id.chars().allMatch(Character::isDigit) ? "task run " + id : id;
    }
}
