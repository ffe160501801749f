package dev.anvil.workflows.pipeline.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Finds and substitutes {@code ${...}} references in string values. {@code $${} is a literal
 * {@code ${} (for shell snippets). The validator and the engine share this class so that what
 * validates is exactly what resolves.
 */
public final class References {
    public static final List<String> RUN_FIELDS = List.of("id", "logical_date");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

    private References() {}

    /** The references in {@code text}, and a message per malformed one. */
    public record Scan(List<Reference> references, List<String> problems) {}

    public static Scan scan(String text) {
        List<Reference> refs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        walk(text, body -> {
            Object parsed = parse(body);
            if (parsed instanceof Reference ref) {
                refs.add(ref);
            } else {
                problems.add((String) parsed);
            }
            return "";
        }, problems);
        return new Scan(refs, problems);
    }

    /** True when {@code value} is one reference and nothing else, so its type is only known at run time. */
    public static boolean isWholeReference(Object value) {
        return looksWhole(value) && parse(((String) value).substring(2, ((String) value).length() - 1)) instanceof Reference;
    }

    /** Shaped like one reference, valid or not; a malformed one is reported as such, not as a type error. */
    static boolean looksWhole(Object value) {
        return value instanceof String s && !s.startsWith("$${") && s.startsWith("${") && s.indexOf('}') == s.length() - 1;
    }

    /**
     * {@code value} with every reference replaced through {@code lookup}, deeply through maps and
     * lists. A string that is exactly one reference becomes the looked-up value itself (a number, an
     * artifact reference map); references inside longer strings are spliced in as text.
     *
     * @throws IllegalArgumentException for a malformed reference (a validated spec has none)
     */
    public static Object render(Object value, Function<Reference, Object> lookup) {
        if (value instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), render(v, lookup)));
            return Collections.unmodifiableMap(out);
        }
        if (value instanceof List<?> l) {
            return l.stream().map(v -> render(v, lookup)).toList();
        }
        if (!(value instanceof String s)) {
            return value;
        }
        if (isWholeReference(s)) {
            return lookup.apply((Reference) parse(s.substring(2, s.length() - 1)));
        }
        List<String> problems = new ArrayList<>();
        String out = walk(s, body -> {
            Object parsed = parse(body);
            if (parsed instanceof Reference ref) {
                return String.valueOf(lookup.apply(ref));
            }
            problems.add((String) parsed);
            return "";
        }, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return out;
    }

    private interface Visitor {
        String visit(String body);
    }

    /** Copies {@code text}, letting {@code visitor} replace each {@code ${body}}; unescapes {@code $${}. */
    private static String walk(String text, Visitor visitor, List<String> problems) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (text.startsWith("${", i)) {
                int end = text.indexOf('}', i + 2);
                if (end < 0) {
                    problems.add("unclosed '${' in '" + text + "'; close the reference with '}' or write '$${' for a literal '${'");
                    return out.append(text, i, text.length()).toString();
                }
                out.append(visitor.visit(text.substring(i + 2, end)));
                i = end + 1;
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }

    /** A {@link Reference}, or a message saying why {@code body} is not one. */
    private static Object parse(String body) {
        String b = body.strip();
        String[] parts = b.split("\\.", -1);
        String written = "'${" + body + "}'";
        switch (parts[0]) {
            case "params":
                if (parts.length == 2 && NAME.matcher(parts[1]).matches()) {
                    return new Reference(Reference.Kind.PARAM, "", parts[1]);
                }
                return "bad reference " + written + "; write ${params.NAME}";
            case "tasks":
                if (parts.length == 4 && parts[2].equals("outputs") && NAME.matcher(parts[1]).matches()
                        && NAME.matcher(parts[3]).matches()) {
                    return new Reference(Reference.Kind.TASK_OUTPUT, parts[1], parts[3]);
                }
                return "bad reference " + written + "; write ${tasks.TASK.outputs.NAME}";
            case "run":
                if (parts.length == 2 && RUN_FIELDS.contains(parts[1])) {
                    return new Reference(Reference.Kind.RUN, "", parts[1]);
                }
                return "bad reference " + written + "; the run offers ${run.id} and ${run.logical_date}";
            default:
                return "unknown reference " + written + "; references start with params., tasks. or run.,"
                        + " e.g. ${params.model}; write '$${' for a literal '${'";
        }
    }
}
