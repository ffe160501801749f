package dev.anvil.api.airflow;

import jakarta.ws.rs.core.MultivaluedMap;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Airflow's list conventions over rendered items: {@code limit}/{@code offset} paging, {@code order_by} with
 * a {@code -} for descending, SQL LIKE {@code *_pattern}s, date ranges ({@code <field>_gte|gt|lte|lt}) and
 * repeatable value filters. Anvil's lists are small (a team's pipelines, their runs), so the filtering happens
 * on the rendered items, which keeps every filter true to the field it names.
 */
final class AirflowQuery {
    private final MultivaluedMap<String, String> params;
    private final AirflowException.Validation errors = new AirflowException.Validation();
    private final List<Predicate<Map<String, Object>>> filters = new ArrayList<>();

    AirflowQuery(MultivaluedMap<String, String> params) {
        this.params = params;
    }

    String one(String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(values.size() - 1);
    }

    List<String> all(String name) {
        List<String> values = params.get(name);
        return values == null ? List.of() : values;
    }

    int nonNegative(String name, int fallback) {
        return integer(name, fallback, 0);
    }

    int integer(String name, int fallback, int min) {
        String value = one(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n < min) {
                errors.add("greater_than_equal", "Input should be greater than or equal to " + min, "query", name);
            }
            return n;
        } catch (NumberFormatException e) {
            errors.add("int_parsing", "Input should be a valid integer, unable to parse string as an integer", "query", name);
            return fallback;
        }
    }

    Boolean bool(String name) {
        String value = one(name);
        if (value == null) {
            return null;
        }
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on", "t", "y":
                return true;
            case "false", "0", "no", "off", "f", "n":
                return false;
            default:
                errors.add("bool_parsing", "Input should be a valid boolean, unable to interpret input", "query", name);
                return null;
        }
    }

    /** Items whose {@code field} matches the SQL LIKE {@code param} (case-insensitive, as Airflow's ilike). */
    AirflowQuery like(String param, String field) {
        String pattern = one(param);
        if (pattern != null) {
            Pattern regex = likeToRegex(pattern);
            filters.add(item -> item.get(field) != null && regex.matcher(String.valueOf(item.get(field))).matches());
        }
        return this;
    }

    static Pattern likeToRegex(String like) {
        StringBuilder regex = new StringBuilder();
        for (char c : like.toCharArray()) {
            if (c == '%') {
                regex.append(".*");
            } else if (c == '_') {
                regex.append('.');
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    }

    /** Items whose {@code field} is one of the (repeatable) {@code param}'s values; none given matches all. */
    AirflowQuery anyOf(String param, String field) {
        List<String> wanted = all(param);
        if (!wanted.isEmpty()) {
            filters.add(item -> wanted.contains(item.get(field) == null ? "none" : String.valueOf(item.get(field))));
        }
        return this;
    }

    /** As {@link #anyOf}, after checking each value is one of {@code allowed}. */
    AirflowQuery anyOf(String param, String field, List<String> allowed) {
        List<String> wanted = all(param);
        for (int i = 0; i < wanted.size(); i++) {
            if (!allowed.contains(wanted.get(i))) {
                errors.add("enum", "Input should be " + String.join(", ", allowed.stream().map(a -> "'" + a + "'").toList()),
                        "query", param, i);
            }
        }
        return anyOf(param, field);
    }

    AirflowQuery where(Predicate<Map<String, Object>> filter) {
        filters.add(filter);
        return this;
    }

    /** {@code <field>_gte}, {@code _gt}, {@code _lte}, {@code _lt} over a date-time (or number) field. */
    AirflowQuery range(String field) {
        for (String op : List.of("gte", "gt", "lte", "lt")) {
            String name = field + "_" + op;
            String value = one(name);
            if (value == null) {
                continue;
            }
            Comparable<Object> bound = bound(name, value);
            if (bound == null) {
                continue;
            }
            filters.add(item -> {
                Object raw = item.get(field);
                if (raw == null) {
                    return false;
                }
                @SuppressWarnings("unchecked")
                Comparable<Object> v = (Comparable<Object>) (raw instanceof Number n ? (Object) n.doubleValue()
                        : (Object) Instant.parse(String.valueOf(raw)));
                int c = v.compareTo(bound);
                return switch (op) {
                    case "gte" -> c >= 0;
                    case "gt" -> c > 0;
                    case "lte" -> c <= 0;
                    default -> c < 0;
                };
            });
        }
        return this;
    }

    @SuppressWarnings("unchecked")
    private Comparable<Object> bound(String name, String value) {
        if (name.startsWith("duration_")) {
            try {
                return (Comparable<Object>) (Object) Double.parseDouble(value);
            } catch (NumberFormatException e) {
                errors.add("float_parsing", "Input should be a valid number", "query", name);
                return null;
            }
        }
        Instant t = instant(value);
        if (t == null) {
            errors.add("datetime_from_date_parsing", "Input should be a valid datetime", "query", name);
            return null;
        }
        return (Comparable<Object>) (Object) t;
    }

    /** An ISO-8601 date-time; one without an offset is read as UTC. */
    static Instant instant(String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(value);
            } catch (DateTimeParseException e2) {
                try {
                    return java.time.LocalDateTime.parse(value).toInstant(java.time.ZoneOffset.UTC);
                } catch (DateTimeParseException e3) {
                    return null;
                }
            }
        }
    }

    AirflowException.Validation errors() {
        return errors;
    }

    /**
     * Filters, sorts ({@code order_by}, default {@code defaultOrder}; the field must be one of {@code sortable})
     * and pages the items into Airflow's collection {@code {<key>: [...], total_entries: n}}.
     */
    Map<String, Object> collection(String key, List<Map<String, Object>> items, String defaultOrder,
                                   Set<String> sortable, int defaultLimit) {
        return collection(key, items, defaultOrder, sortable, Map.of(), defaultLimit);
    }

    /** @param aliases sort keys Airflow names that Anvil orders by another field (e.g. a run's id by queued_at) */
    Map<String, Object> collection(String key, List<Map<String, Object>> items, String defaultOrder,
                                   Set<String> sortable, Map<String, String> aliases, int defaultLimit) {
        int limit = nonNegative("limit", defaultLimit);
        int offset = nonNegative("offset", 0);
        List<String> order = all("order_by").isEmpty() ? List.of(defaultOrder) : all("order_by");
        errors.throwIfAny();
        Comparator<Map<String, Object>> comparator = null;
        for (String o : order) {
            boolean descending = o.startsWith("-");
            String named = descending ? o.substring(1) : o;
            if (!sortable.contains(named) && !aliases.containsKey(named)) {
                throw AirflowException.badRequest("Ordering with '" + named + "' is disallowed or the attribute does"
                        + " not exist on the model; order by one of " + sortable.stream().sorted().toList());
            }
            String field = aliases.getOrDefault(named, named);
            Comparator<Map<String, Object>> c = Comparator.comparing(item -> sortKey(item.get(field)),
                    Comparator.nullsLast(Comparator.naturalOrder()));
            if (descending) {
                c = Comparator.comparing((Map<String, Object> item) -> sortKey(item.get(field)),
                        Comparator.nullsFirst(Comparator.<Comparable<Object>>naturalOrder().reversed()));
            }
            comparator = comparator == null ? c : comparator.thenComparing(c);
        }
        List<Map<String, Object>> kept = items.stream().filter(i -> filters.stream().allMatch(f -> f.test(i)))
                .sorted(comparator).toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put(key, kept.stream().skip(offset).limit(limit).toList());
        body.put("total_entries", kept.size());
        return body;
    }

    @SuppressWarnings("unchecked")
    private static Comparable<Object> sortKey(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Number n) {
            return (Comparable<Object>) (Object) n.doubleValue();
        }
        if (value instanceof Boolean b) {
            return (Comparable<Object>) (Object) b;
        }
        return (Comparable<Object>) (Object) String.valueOf(value);
    }
}
