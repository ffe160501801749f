package dev.anvil.cli;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import java.util.Set;

/**
 * The server and token the CLI uses: {@code ~/.anvil/config} (written by {@code anvil login}, mode 600 because it
 * holds a token), overridden by {@code ANVIL_SERVER} and {@code ANVIL_TOKEN}.
 */
public record CliConfig(String server, String token) {
    public static final String DEFAULT_SERVER = "http://localhost:8080";

    public static Path path(CliContext ctx) {
        String explicit = ctx.env("ANVIL_CONFIG");
        return explicit != null ? Path.of(explicit) : ctx.home().resolve(".anvil").resolve("config");
    }

    /** The config file's values with the environment's on top; the server defaults to the local stack. */
    public static CliConfig resolve(CliContext ctx) {
        Properties stored = read(path(ctx));
        String server = firstNonBlank(ctx.env("ANVIL_SERVER"), stored.getProperty("server"), DEFAULT_SERVER);
        String token = firstNonBlank(ctx.env("ANVIL_TOKEN"), stored.getProperty("token"), null);
        return new CliConfig(stripSlash(server), token);
    }

    static Properties read(Path file) {
        Properties props = new Properties();
        if (!Files.isRegularFile(file)) {
            return props;
        }
        checkPrivate(file);
        try {
            props.load(new StringReader(Files.readString(file)));
        } catch (IOException e) {
            throw CliException.usage("cannot read " + file + ": " + e.getMessage() + "; fix it or run anvil login again");
        }
        return props;
    }

    /** Refuses a config that others may read, as ssh refuses such a key: the token in it would be theirs too. */
    static void checkPrivate(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    throw CliException.usage(file + " holds an API token but its mode is "
                            + PosixFilePermissions.toString(perms) + "; run: chmod 600 " + file);
                }
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system (Windows): nothing to check
        } catch (IOException e) {
            throw CliException.usage("cannot check the permissions of " + file + ": " + e.getMessage());
        }
    }

    /** Writes server and token to the config file, created with mode 600 (folder 700) before the token goes in. */
    public static Path save(CliContext ctx, String server, String token) {
        Path file = path(ctx);
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                setPosix(dir, "rwx------");
            }
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            setPosix(file, "rw-------");
            Files.writeString(file, "# written by anvil login; holds an API token: keep it mode 600\n"
                    + "server=" + escape(stripSlash(server)) + "\ntoken=" + escape(token) + "\n");
        } catch (IOException e) {
            throw CliException.usage("cannot write " + file + ": " + e.getMessage());
        }
        return file;
    }

    private static void setPosix(Path path, String perms) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the user's profile folder protects it
        }
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\n", "").replace(":", "\\:").replace("=", "\\=");
    }

    static String stripSlash(String server) {
        String s = server.trim();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    private static String firstNonBlank(String a, String b, String fallback) {
        if (a != null && !a.isBlank()) return a.trim();
        if (b != null && !b.isBlank()) return b.trim();
        return fallback;
    }
}
