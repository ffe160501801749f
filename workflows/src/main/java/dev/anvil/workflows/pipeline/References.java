package dev.anvil.workflows.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves ${params.x}, ${tasks.T.outputs.y} and ${run.id} in a task's {@code with}. A string that is
 * exactly one reference becomes the referenced value itself (an artifact reference stays an object);
 * references inside longer strings are replaced by their text. Pure and deterministic: it runs in
 * workflow code.
 */
public final class References {
    private static final Pattern REF = Pattern.compile("\\$\\{([^}]*)}");

    private References() {}

    /** Thrown when a reference names nothing; the spec validator catches these before a run starts. */
    public static final class UnresolvedReference extends RuntimeException {
        public UnresolvedReference(String message) {
            super(message);
        }
    }

    public static Map<String, Object> resolve(Map<String, Object> with, Map<String, Object> params,
                                              Map<String, Map<String, Object>> outputs, Map<String, Object> run) {
        Map<String, Object> resolved = new LinkedHashMap<>();
        with.forEach((k, v) -> resolved.put(k, value(v, params, outputs, run)));
        return resolved;
    }

    @SuppressWarnings("unchecked")
    private static Object value(Object v, Map<String, Object> params, Map<String, Map<String, Object>> outputs,
                                Map<String, Object> run) {
        if (v instanceof String s) {
            return string(s, params, outputs, run);
        }
        if (v instanceof Map<?, ?> m) {
            return resolve((Map<String, Object>) m, params, outputs, run);
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(item -> out.add(value(item, params, outputs, run)));
            return out;
        }
        return v;
    }

    private static Object string(String s, Map<String, Object> params, Map<String, Map<String, Object>> outputs,
                                 Map<String, Object> run) {
        Matcher whole = REF.matcher(s);
        if (whole.matches()) {
            return lookup(whole.group(1).trim(), params, outputs, run);
        }
        Matcher m = REF.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(String.valueOf(lookup(m.group(1).trim(), params, outputs, run))));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static Object lookup(String ref, Map<String, Object> params, Map<String, Map<String, Object>> outputs,
                                 Map<String, Object> run) {
        String[] parts = ref.split("\\.");
        if (parts.length == 2 && parts[0].equals("params") && params.containsKey(parts[1])) {
            return params.get(parts[1]);
        }
        if (parts.length == 2 && parts[0].equals("run") && run.containsKey(parts[1])) {
            return run.get(parts[1]);
        }
        if (parts.length == 4 && parts[0].equals("tasks") && parts[2].equals("outputs")) {
            Map<String, Object> taskOutputs = outputs.get(parts[1]);
            if (taskOutputs != null && taskOutputs.containsKey(parts[3])) {
                return taskOutputs.get(parts[3]);
            }
        }
        throw new UnresolvedReference("${" + ref + "} does not resolve");
    }
}
