package dev.anvil.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The embedded server's client authentication: a pg_hba.conf that asks every connection, over TCP
 * or the Unix socket, for its role's password (scram-sha-256). initdb's own file trusts every local
 * connection, which on a shared machine means every local user, as any role, the superuser included.
 */
final class PasswordAuthentication {
    /** The first line of the file this class writes; its absence marks a data directory from before it. */
    static final String MARKER = "# Written by the Anvil local stack on every start: every connection needs a password.";

    private static final String HBA = MARKER + "\n"
            + "# Edits are overwritten; the passwords are in the db-passwords file beside the data directory.\n"
            + "# TYPE  DATABASE  USER  ADDRESS  METHOD\n"
            + "local   all       all            scram-sha-256\n"
            + "host    all       all   all      scram-sha-256\n";

    private PasswordAuthentication() {}

    static boolean isWritten(Path dataDir) {
        Path hba = dataDir.resolve("pg_hba.conf");
        try {
            return Files.exists(hba) && Files.readString(hba, StandardCharsets.UTF_8).startsWith(MARKER);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + hba, e);
        }
    }

    static void write(Path dataDir) {
        Path hba = dataDir.resolve("pg_hba.conf");
        try {
            Files.writeString(hba, HBA, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + hba, e);
        }
    }

    /** A file only its owner may read, holding the superuser's password for initdb's --pwfile. */
    static Path pwfile(Path dir, String password) throws IOException {
        Path file = Files.createTempFile(dir, ".pg-superuser", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, password + "\n", StandardCharsets.UTF_8);
        return file;
    }
}
