package dev.anvil.devstack;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;
import java.util.Set;

/**
 * The local stack's generated database passwords, one {@code role=password} line each, in a file
 * only its owner may read or write (mode 600). A role's password is made on first use and kept, so a
 * restarted stack and the processes it started agree on it.
 */
public final class PasswordFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;

    public PasswordFile(Path file) {
        this.file = file;
    }

    public Path path() {
        return file;
    }

    /** The role's password from the file, or a new random one written to it. */
    public synchronized String passwordFor(String role) {
        Properties passwords = read();
        String password = passwords.getProperty(role);
        if (password == null) {
            byte[] bytes = new byte[24];
            RANDOM.nextBytes(bytes);
            password = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            passwords.setProperty(role, password);
            write(passwords);
        }
        return password;
    }

    private Properties read() {
        Properties passwords = new Properties();
        if (Files.exists(file)) {
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                passwords.load(in);
                // a file copied or restored with looser permissions is tightened again
                Files.setPosixFilePermissions(file, OWNER_ONLY);
            } catch (IOException e) {
                throw new DevStackException("cannot read the database passwords in " + file + ": " + e.getMessage()
                        + ". Make it readable by this user, or delete it together with the data directory beside it.", e);
            }
        }
        return passwords;
    }

    /** Written to a private temporary file and moved into place, so no reader sees half a file. */
    private void write(Properties passwords) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".db-passwords", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                passwords.store(out, "Passwords of the local stack's database roles (generated; keep this file private)");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new DevStackException("cannot write the database passwords to " + file + ": " + e.getMessage(), e);
        }
    }
}
