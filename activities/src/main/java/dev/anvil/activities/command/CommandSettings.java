package dev.anvil.activities.command;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a worker allows the {@code command} operator: whether it runs commands at all
 * ({@code ANVIL_WORKER_COMMANDS=true}) and the named environment profiles a spec may pick
 * ({@code ANVIL_COMMAND_ENV_<PROFILE>_<VAR>=value} gives profile {@code <profile>} the variable {@code VAR}).
 * Variables and secrets come only from here, never from a spec's text.
 */
public record CommandSettings(boolean enabled, Map<String, Map<String, String>> profiles, String path) {
    public static final String ENABLE_VARIABLE = "ANVIL_WORKER_COMMANDS";
    public static final String PROFILE_PREFIX = "ANVIL_COMMAND_ENV_";
    /** Profile names are one word: the first underscore after the prefix ends the name. */
    private static final Pattern PROFILE_VARIABLE = Pattern.compile(PROFILE_PREFIX + "([A-Za-z0-9]+)_([A-Za-z_][A-Za-z0-9_]*)");
    private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    public CommandSettings {
        profiles = Map.copyOf(profiles);
    }

    /** Settings read from a worker's environment (the process's own, in production). */
    public static CommandSettings fromEnvironment(Map<String, String> environment) {
        boolean enabled = "true".equalsIgnoreCase(environment.getOrDefault(ENABLE_VARIABLE, "").trim());
        Map<String, Map<String, String>> profiles = new TreeMap<>();
        environment.forEach((name, value) -> {
            Matcher m = PROFILE_VARIABLE.matcher(name);
            if (m.matches()) {
                profiles.computeIfAbsent(m.group(1).toLowerCase(Locale.ROOT), p -> new TreeMap<>()).put(m.group(2), value);
            }
        });
        return new CommandSettings(enabled, profiles, environment.getOrDefault("PATH", DEFAULT_PATH));
    }

    public static CommandSettings disabled() {
        return new CommandSettings(false, Map.of(), DEFAULT_PATH);
    }

    public Optional<Map<String, String>> profile(String name) {
        return Optional.ofNullable(profiles.get(name.toLowerCase(Locale.ROOT)));
    }
}
