package dev.anvil.db;

import java.util.Map;

/** Writes an event's flat payload as a JSON object (this module has no JSON library, and needs only this). */
final class EventJson {
    /** A value that is JSON text already (e.g. a detector's evidence), written as it is. */
    record Raw(String json) {
    }

    private EventJson() {
    }

    static String object(Map<String, Object> data) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, Object> e : data.entrySet()) {
            if (out.length() > 1) {
                out.append(", ");
            }
            quote(out, e.getKey()).append(": ");
            Object v = e.getValue();
            if (v == null) {
                out.append("null");
            } else if (v instanceof Raw raw) {
                out.append(raw.json());
            } else if (v instanceof Number || v instanceof Boolean) {
                out.append(v);
            } else {
                quote(out, v.toString());
            }
        }
        return out.append('}').toString();
    }

    private static StringBuilder quote(StringBuilder out, String s) {
        out.append('"');
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        out.append(String.format("\\u%04x", (int) ch));
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        return out.append('"');
    }
}
