package dev.anvil.activities.command;

import dev.anvil.activities.operators.InvalidTaskInputException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code command} task's {@code with}, checked before anything runs: the argv list, input artifacts by
 * name, declared outputs as paths inside the working directory, the timeout and the environment profile.
 */
record CommandSpec(List<String> argv, Map<String, Object> inputs, Map<String, Path> outputs, Duration timeout,
                   String env) {
    static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
    static final Duration MAX_TIMEOUT = Duration.ofHours(24);
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    private static final Pattern DURATION = Pattern.compile("([0-9]+)(s|m|h)");
    private static final List<String> KEYS = List.of("command", "inputs", "outputs", "timeout", "env");

    static CommandSpec parse(Map<String, Object> with) {
        for (String key : with.keySet()) {
            if (!KEYS.contains(key)) {
                throw bad("does not take with." + key + "; it takes " + KEYS
                        + (key.equals("environment") || key.equals("vars")
                        ? " (variables come from a worker's env profile, never from the spec)" : ""));
            }
        }
        return new CommandSpec(argv(with.get("command")), inputs(with.get("inputs")), outputs(with.get("outputs")),
                timeout(with.get("timeout")), env(with.get("env")));
    }

    private static List<String> argv(Object value) {
        if (value instanceof String s) {
            throw bad("with.command must be a list of arguments, not a shell string: write [\"python3\", \"train.py\"]"
                    + " (or [\"bash\", \"-c\", \"" + abbreviate(s) + "\"] if you mean a shell); got a string");
        }
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw bad("needs with.command, a non-empty list of arguments such as [\"python3\", \"train.py\"]");
        }
        List<String> argv = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Object arg = list.get(i);
            if (!(arg instanceof String) && !(arg instanceof Number) && !(arg instanceof Boolean)) {
                throw bad("with.command[" + i + "] is " + arg + "; each argument must be a string or a number");
            }
            argv.add(String.valueOf(arg));
        }
        if (argv.get(0).isBlank()) {
            throw bad("with.command[0], the program, is empty");
        }
        return List.copyOf(argv);
    }

    private static Map<String, Object> inputs(Object value) {
        Map<String, Object> inputs = new LinkedHashMap<>();
        if (value == null) {
            return inputs;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw bad("with.inputs must be an object of name: artifact reference; got " + value);
        }
        map.forEach((k, v) -> {
            String name = String.valueOf(k);
            if (!NAME.matcher(name).matches()) {
                throw bad("with.inputs." + name + ": input names are lower-case letters, digits and _ (they become"
                        + " file names under inputs/ and ANVIL_INPUT_<NAME>)");
            }
            inputs.put(name, v);
        });
        return inputs;
    }

    private static Map<String, Path> outputs(Object value) {
        Map<String, Path> outputs = new LinkedHashMap<>();
        if (value == null) {
            return outputs;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw bad("with.outputs must be an object of name: path in the working directory; got " + value);
        }
        map.forEach((k, v) -> {
            String name = String.valueOf(k);
            if (!NAME.matcher(name).matches()) {
                throw bad("with.outputs." + name + ": output names are lower-case letters, digits and _");
            }
            if (!(v instanceof String text) || text.isBlank()) {
                throw bad("with.outputs." + name + " must be a relative path such as out/model.onnx; got " + v);
            }
            outputs.put(name, relative("with.outputs." + name, text));
        });
        return outputs;
    }

    /** A path that stays inside the working directory, whatever it holds; symlinks are checked after the run. */
    static Path relative(String where, String text) {
        Path path = Path.of(text);
        if (path.isAbsolute() || text.startsWith("/") || text.startsWith("~")) {
            throw bad(where + " '" + text + "' is absolute; outputs are paths inside the task's working directory,"
                    + " such as out/model.onnx");
        }
        Path normal = path.normalize();
        for (Path part : path) {
            if (part.toString().equals("..")) {
                throw bad(where + " '" + text + "' leaves the working directory ('..'); write a path inside it,"
                        + " such as out/model.onnx");
            }
        }
        if (normal.toString().isEmpty()) {
            throw bad(where + " '" + text + "' names the working directory itself; name a file in it");
        }
        return normal;
    }

    private static Duration timeout(Object value) {
        if (value == null) {
            return DEFAULT_TIMEOUT;
        }
        Duration d;
        if (value instanceof Number n && n.doubleValue() > 0) {
            d = Duration.ofMillis(Math.round(n.doubleValue() * 1000));
        } else {
            Matcher m = DURATION.matcher(String.valueOf(value).trim());
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw bad("with.timeout '" + value + "' is not a duration: write e.g. 90s, 30m or 2h (or seconds)");
            }
            long amount = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
        }
        if (d.compareTo(MAX_TIMEOUT) > 0) {
            throw bad("with.timeout " + value + " is over the limit of 24h");
        }
        return d;
    }

    private static String env(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof String s) || !s.matches("[A-Za-z0-9]+")) {
            throw bad("with.env must name a worker env profile (letters and digits, e.g. training); got " + value
                    + ". Variables are set on the worker as ANVIL_COMMAND_ENV_<PROFILE>_<VAR>, never in the spec");
        }
        return s;
    }

    static InvalidTaskInputException bad(String message) {
        return new InvalidTaskInputException("command: " + message);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
