package dev.anvil.activities.external;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The training services of this worker by name, read from its configuration: {@code ANVIL_TRAINER_<NAME>_URL}
 * (the service's jobs endpoint, http or https) and {@code ANVIL_TRAINER_<NAME>_AUTH} (the Authorization header
 * it expects), or the properties {@code anvil.trainer.<name>.url} / {@code .auth}. A spec names a service, never
 * a URL, so a pipeline cannot make the worker call an address its operators did not configure.
 */
public final class TrainingServices {
    private static final Pattern ENV = Pattern.compile("ANVIL_TRAINER_([A-Z0-9_]+?)_(URL|AUTH)");
    private static final Pattern PROPERTY = Pattern.compile("anvil\\.trainer\\.([a-z0-9_-]+)\\.(url|auth)");

    private final Map<String, TrainingService> byName;
    private final Map<String, String> misconfigured;

    private TrainingServices(Map<String, TrainingService> byName, Map<String, String> misconfigured) {
        this.byName = byName;
        this.misconfigured = misconfigured;
    }

    /** From configuration entries (environment variables and properties, by their names). */
    public static TrainingServices from(Map<String, String> settings) {
        Map<String, String> urls = new TreeMap<>();
        Map<String, String> auths = new TreeMap<>();
        settings.forEach((key, value) -> {
            Matcher env = ENV.matcher(key);
            Matcher property = PROPERTY.matcher(key);
            Matcher m = env.matches() ? env : property.matches() ? property : null;
            if (m == null || value == null || value.isBlank()) {
                return;
            }
            String name = m.group(1).toLowerCase(Locale.ROOT).replace('_', '-');
            (m.group(2).equalsIgnoreCase("url") ? urls : auths).put(name, value.trim());
        });
        Map<String, TrainingService> services = new TreeMap<>();
        Map<String, String> bad = new TreeMap<>();
        urls.forEach((name, url) -> {
            try {
                URI uri = new URI(url);
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                    bad.put(name, "its URL is not an http(s) URL with a host");
                    return;
                }
                services.put(name, new TrainingService(name, uri, Optional.ofNullable(auths.get(name))));
            } catch (URISyntaxException e) {
                bad.put(name, "its URL is not a URL (" + e.getReason() + ")");
            }
        });
        return new TrainingServices(services, bad);
    }

    /** The service a spec names; bad input naming the configured ones when there is no such service. */
    public TrainingService require(String name) {
        String key = name == null ? "" : name.toLowerCase(Locale.ROOT);
        TrainingService service = byName.get(key);
        if (service != null) {
            return service;
        }
        if (misconfigured.containsKey(key)) {
            throw new dev.anvil.activities.operators.InvalidTaskInputException("external: training service '" + name
                    + "' is misconfigured on this worker: " + misconfigured.get(key) + "; fix ANVIL_TRAINER_"
                    + key.toUpperCase(Locale.ROOT).replace('-', '_') + "_URL");
        }
        throw new dev.anvil.activities.operators.InvalidTaskInputException("external: no training service '" + name
                + "' on this worker; it has " + byName.keySet() + " (configure ANVIL_TRAINER_<NAME>_URL)");
    }

    public Set<String> names() {
        return byName.keySet();
    }
}
