package dev.anvil.db.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.db.AuditLogProtection;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.AuditVerification;
import dev.anvil.db.Migrations;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The attack seen on a running Anvil: its own database role switched the audit log's triggers off
 * and edited rows. Migrations now run as an owner role and grant the application's role rows only,
 * so every step of that attack fails for it with a permission error, while its own work goes on.
 */
class AppRoleCannotRewriteAuditLogTest {

    /** SQLSTATE insufficient_privilege: "permission denied" and "must be owner" alike. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private final DataSource app = TestPostgres.migratedDatabase();
    private final DataSource owner = TestPostgres.asOwner(app);

    @ParameterizedTest
    @ValueSource(strings = {
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "ALTER TABLE audit_log DISABLE TRIGGER USER",
            "DROP TRIGGER audit_log_no_update_or_delete ON audit_log",
            "UPDATE audit_log SET actor = 'mallory'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "DROP TABLE audit_log",
            "ALTER TABLE audit_log DROP COLUMN hash",
            "CREATE OR REPLACE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql"
                    + " AS $$ BEGIN RETURN NEW; END $$",
            "DROP TABLE pipeline_runs",
            "ALTER TABLE pipeline_runs DISABLE TRIGGER ALL",
            "UPDATE flyway_schema_history SET success = false",
            "CREATE TABLE planted (v text)",
            "CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS 'SELECT 1'"})
    void theApplicationsRoleIsRefused(String attack) {
        new AuditLogStore(app).append("alice", "run.started", "run:1", null, null);

        assertThatThrownBy(() -> execute(app, attack))
                .as(attack)
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState())
                        .as("%s: %s", attack, e.getMessage()).isEqualTo(INSUFFICIENT_PRIVILEGE))
                .message().containsAnyOf("permission denied", "must be owner");

        AuditVerification chain = new AuditLogStore(app).verify();
        assertThat(chain.valid()).as(chain.reason()).isTrue();
        assertThat(chain.rows()).isEqualTo(1);
    }

    @Test
    void theApplicationsRoleStillAppendsReadsAndWorksItsOwnTables() {
        AuditLogStore audit = new AuditLogStore(app);
        audit.append("alice", "run.started", "run:1", "{\"a\": 1}", "k1");
        audit.append("alice", "run.started", "run:1", "{\"a\": 1}", "k1");
        audit.append("bob", "run.cancelled", "run:1", null, null);

        assertThat(audit.listBySubject("run:1", 10)).hasSize(2);
        assertThat(audit.verify().valid()).isTrue();
        PipelineRunStore runs = new PipelineRunStore(app);
        runs.create("run-1", "nightly", "{}", "alice");
        assertThat(runs.find("run-1")).isPresent();
        assertThat(AuditLogProtection.weakness(app)).isEmpty();
    }

    @Test
    void theOwnerStillCanAndIsToldSo() throws Exception {
        assertThat(AuditLogProtection.weakness(owner)).hasValueSatisfying(w ->
                assertThat(w).contains("owns audit_log").contains("not protected"));
        // what migrations need: the owner changes the schema
        execute(owner, "ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_log ENABLE TRIGGER USER");
    }

    @Test
    void aTableALaterMigrationCreatesIsCoveredByDefaultPrivileges() throws Exception {
        execute(owner, "CREATE TABLE later_table (id bigserial PRIMARY KEY, v text)");

        execute(app, "INSERT INTO later_table (v) VALUES ('x')", "UPDATE later_table SET v = 'y'",
                "DELETE FROM later_table");
        assertThatThrownBy(() -> execute(app, "DROP TABLE later_table"))
                .isInstanceOfSatisfying(SQLException.class, e ->
                        assertThat(e.getSQLState()).isEqualTo(INSUFFICIENT_PRIVILEGE));
    }

    @Test
    void grantsAreMadeAgainOnEveryMigrateAndAMissingRoleIsNamed() throws Exception {
        execute(owner, "REVOKE ALL ON pipeline_runs FROM " + TestPostgres.appUser());

        assertThat(Migrations.migrate(owner, TestPostgres.appUser())).isZero();
        execute(app, "SELECT count(*) FROM pipeline_runs");

        assertThatThrownBy(() -> Migrations.migrate(owner, "anvil_no_such_role"))
                .hasMessageContaining("anvil_no_such_role")
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> Migrations.migrate(owner, "anvil'; DROP TABLE audit_log; --"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a plain role name");
        assertThat(count(app, "SELECT count(*) FROM audit_log")).isZero();
    }

    private static void execute(DataSource db, String... statements) throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    private static long count(DataSource db, String query) throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
