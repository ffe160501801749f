package dev.anvil.devstack.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.devstack.DevStackConfig;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.Ports;
import dev.anvil.devstack.PostgresServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local PostgreSQL trusted every local connection: anyone on the machine could connect as the
 * superuser, or as Anvil's own role, without a password and rewrite the audit log. Every connection
 * must now give its role's password, on a new data directory and on one made before passwords.
 */
class LocalPostgresRequiresPasswordsTest {

    @TempDir
    Path home;

    @Test
    void aNewServerRefusesConnectionsWithoutOrWithAWrongPassword() throws Exception {
        DevStackConfig config = DevStackConfig.forTests(home);
        try (LocalStack stack = LocalStack.start(config)) {
            String url = stack.jdbcUrl();

            for (String role : new String[] {"postgres", config.dbOwnerUser(), config.dbUser()}) {
                assertRefused(url, role, null);
                assertRefused(url, role, "anvil");
                assertRefused(url, role, "");
            }
            assertConnects(url, config.dbUser(), config.dbPassword());
            assertConnects(url, config.dbOwnerUser(), config.dbOwnerPassword());
            assertConnects(url, "postgres", superuserPassword());

            assertThat(stack.environment())
                    .containsEntry("ANVIL_DB_USER", "anvil_app")
                    .containsEntry("ANVIL_DB_PASSWORD", config.dbPassword())
                    .containsEntry("ANVIL_DB_OWNER_USER", "anvil")
                    .containsEntry("ANVIL_DB_OWNER_PASSWORD", config.dbOwnerPassword());
            assertThat(config.dbPassword()).hasSizeGreaterThanOrEqualTo(32).isNotEqualTo(config.dbOwnerPassword());
        }
        Path passwords = home.resolve(PostgresServer.PASSWORDS_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwords))).isEqualTo("rw-------");
        // a restart keeps the same passwords
        assertThat(DevStackConfig.forTests(home).dbPassword()).isEqualTo(config.dbPassword());
    }

    @Test
    void aDataDirectoryThatTrustedEveryoneRequiresPasswordsAfterTheUpgrade() throws Exception {
        Path dataDir = home.resolve("pg");
        int port = Ports.ephemeral();
        // a data directory as earlier versions of the local stack left it: initdb -A trust, no passwords
        try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false)
                .setPort(port).setServerConfig("listen_addresses", "127.0.0.1").start();
             Connection c = old.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE anvil LOGIN PASSWORD 'anvil'");
            s.execute("CREATE DATABASE anvil OWNER anvil");
        }
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/anvil";
        try (PostgresServer server = PostgresServer.start("127.0.0.1", port, dataDir)) {
            assertRefused(url, "postgres", null);
            assertRefused(url, "anvil", null);
            assertConnects(url, "postgres", superuserPassword());
            assertConnects(url, "anvil", "anvil");
        }
        // and on the next start, where pg_hba.conf is written before the server starts
        try (PostgresServer server = PostgresServer.start("127.0.0.1", port, dataDir)) {
            assertRefused(url, "postgres", null);
            assertConnects(url, "postgres", superuserPassword());
        }
    }

    private String superuserPassword() throws Exception {
        Properties passwords = new Properties();
        try (var in = Files.newBufferedReader(home.resolve(PostgresServer.PASSWORDS_FILE))) {
            passwords.load(in);
        }
        return passwords.getProperty("postgres");
    }

    private static void assertRefused(String url, String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        assertThatThrownBy(() -> DriverManager.getConnection(url, props).close())
                .as("%s with password %s", user, password == null ? "(none)" : "'" + password + "'")
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password");
    }

    private static void assertConnects(String url, String user, String password) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(user);
        }
    }
}
