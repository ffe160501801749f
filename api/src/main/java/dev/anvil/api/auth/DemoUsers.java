package dev.anvil.api.auth;

import dev.anvil.db.ApiTokenStore;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The local stack's demo users: {@code demo-admin}, {@code demo-submitter}, {@code demo-reviewer},
 * {@code demo-viewer} (reads only) and {@code demo-invoker} (calls inference only).
 * Their tokens live in a file (owner-only) so that {@code ./anvil up} can print them again on every
 * start, while the database keeps only hashes. A missing file gets fresh random tokens; an existing
 * one (or one a test wrote) is registered as it is.
 */
public final class DemoUsers {
    public static final Map<String, List<String>> USERS = new LinkedHashMap<>();

    static {
        USERS.put("admin", List.of("admin", "submitter"));
        USERS.put("submitter", List.of("submitter"));
        USERS.put("reviewer", List.of("reviewer"));
        USERS.put("viewer", List.of("viewer"));
        USERS.put("invoker", List.of("invoker"));
    }

    private DemoUsers() {
    }

    /** Makes sure the file holds a token per demo user and that each is registered; returns role → token. */
    public static Map<String, String> seed(Path file, ApiTokenStore store) throws IOException {
        Properties tokens = new Properties();
        if (Files.exists(file)) {
            try (Reader in = Files.newBufferedReader(file)) {
                tokens.load(in);
            }
        }
        boolean changed = false;
        for (String user : USERS.keySet()) {
            if (tokens.getProperty(user, "").isBlank()) {
                tokens.setProperty(user, ApiTokenStore.newToken());
                changed = true;
            }
        }
        if (changed) {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try (Writer out = Files.newBufferedWriter(file)) {
                tokens.store(out, "Anvil demo tokens (local mode only); delete this file for new ones");
            }
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the file keeps the directory's permissions
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        USERS.forEach((user, roles) -> {
            String token = tokens.getProperty(user);
            store.register(token, "demo-" + user, roles, "demo user (local stack)", "anvil");
            out.put(user, token);
        });
        return out;
    }
}
