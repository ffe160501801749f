package dev.anvil.db.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.db.AuditChain;
import dev.anvil.db.AuditEntry;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.AuditVerification;
import dev.anvil.db.Migrations;
import dev.anvil.db.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * Someone who owns the audit_log table can switch its append-only triggers off and rewrite
 * history. These tests do exactly that with plain SQL, as the owner role (the application's own
 * role cannot: AppRoleCannotRewriteAuditLogTest), and expect the hash chain to name the row.
 */
class AuditChainTamperTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final DataSource owner = TestPostgres.asOwner(db);
    private final AuditLogStore audit = new AuditLogStore(db);

    @Test
    void concurrentAppendsKeepOneUnbrokenChain() throws Exception {
        int writers = 8;
        int each = 25;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String actor = "writer-" + w;
                done.add(pool.submit((Callable<Void>) () -> {
                    for (int i = 0; i < each; i++) {
                        // Every other append carries a key, which the retry path looks up under the lock.
                        audit.append(actor, "test.append", "subject:" + i, "{\"i\": " + i + "}",
                                i % 2 == 0 ? actor + "/" + i : null);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }

        AuditVerification result = audit.verify();
        assertThat(result.valid()).as(result.reason()).isTrue();
        assertThat(result.rows()).isEqualTo((long) writers * each);
        assertThat(result.unchainedRows()).isZero();
        // Every row links to exactly one predecessor: no two rows share a prev_hash.
        assertThat(scalar("SELECT count(DISTINCT prev_hash) FROM audit_log")).isEqualTo((long) writers * each);
    }

    @Test
    void anUpdateMadeWithSqlIsFound() throws Exception {
        audit.append("alice", "run.started", "run:1", null, null);
        AuditEntry target = audit.append("bob", "approval.approve", "run:1", "{\"comment\": \"ok\"}", null);
        audit.append("carol", "run.cancelled", "run:1", null, null);

        sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                "UPDATE audit_log SET actor = 'mallory' WHERE id = " + target.id(),
                "ALTER TABLE audit_log ENABLE TRIGGER USER");

        AuditVerification result = audit.verify();
        assertThat(result.valid()).isFalse();
        assertThat(result.firstBadId()).isEqualTo(target.id());
        assertThat(result.reason()).contains("row " + target.id()).contains("changed");
    }

    @Test
    void anUpdateThatAlsoRewritesTheHashIsFoundAtTheNextRow() throws Exception {
        audit.append("alice", "run.started", "run:1", null, null);
        AuditEntry target = audit.append("bob", "approval.approve", "run:1", null, null);
        AuditEntry next = audit.append("carol", "run.cancelled", "run:1", null, null);

        // The forger recomputes the edited row's own hash, but cannot fix the next row's link
        // without rewriting every row after it too.
        sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                "UPDATE audit_log SET actor = 'mallory', hash = repeat('a', 64) WHERE id = " + target.id(),
                "ALTER TABLE audit_log ENABLE TRIGGER USER");

        AuditVerification result = audit.verify();
        assertThat(result.valid()).isFalse();
        assertThat(result.firstBadId()).isIn(target.id(), next.id());
    }

    @Test
    void aDeleteMadeWithSqlIsFoundAtTheRowAfterIt() throws Exception {
        AuditEntry first = audit.append("alice", "run.started", "run:1", null, null);
        AuditEntry deleted = audit.append("bob", "approval.approve", "run:1", null, null);
        AuditEntry after = audit.append("carol", "run.cancelled", "run:1", null, null);

        sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                "DELETE FROM audit_log WHERE id = " + deleted.id(),
                "ALTER TABLE audit_log ENABLE TRIGGER USER");

        AuditVerification result = audit.verify();
        assertThat(result.valid()).isFalse();
        assertThat(result.firstBadId()).isEqualTo(after.id());
        assertThat(result.reason()).contains("deleted");
        assertThat(result.rows()).isEqualTo(2);
        assertThat(first.id()).isLessThan(after.id());
    }

    @Test
    void deletingTheFirstRowIsFound() throws Exception {
        AuditEntry first = audit.append("alice", "run.started", "run:1", null, null);
        AuditEntry second = audit.append("bob", "run.cancelled", "run:1", null, null);

        sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                "DELETE FROM audit_log WHERE id = " + first.id(),
                "ALTER TABLE audit_log ENABLE TRIGGER USER");

        AuditVerification result = audit.verify();
        assertThat(result.valid()).isFalse();
        assertThat(result.firstBadId()).isEqualTo(second.id());
    }

    @Test
    void rowsCutOffTheEndLeaveAValidChainThatLacksTheRecordedHead() throws Exception {
        audit.append("alice", "run.started", "run:1", null, null);
        audit.append("bob", "approval.approve", "run:1", null, null);
        String recordedHead = audit.verify().lastHash();
        AuditEntry kept = audit.append("carol", "run.cancelled", "run:1", null, null);
        String newerHead = audit.verify(recordedHead).lastHash();

        // the owner deletes the newest rows: what is left still chains
        sql("ALTER TABLE audit_log DISABLE TRIGGER USER",
                "DELETE FROM audit_log WHERE id >= " + (kept.id() - 1),
                "ALTER TABLE audit_log ENABLE TRIGGER USER");

        assertThat(audit.verify().valid()).isTrue();
        AuditVerification result = audit.verify(newerHead);
        assertThat(result.valid()).isFalse();
        assertThat(result.firstBadId()).isNull();
        assertThat(result.rows()).isEqualTo(1);
        assertThat(result.reason()).contains(newerHead).contains("cut off the end");
        assertThatThrownBy(() -> audit.verify("not-a-hash")).hasMessageContaining("'not-a-hash' is not a sha256");
    }

    @Test
    void aRowInsertedWithSqlIsFound() throws Exception {
        audit.append("alice", "run.started", "run:1", null, null);
        sql("INSERT INTO audit_log (actor, action, subject) VALUES ('mallory', 'token.created', 'principal:mallory')");
        long forged = scalar("SELECT max(id) FROM audit_log");

        AuditVerification result = audit.verify();
        assertThat(result.valid()).isFalse();
        assertThat(result.firstBadId()).isEqualTo(forged);
    }

    @Test
    void anUntouchedLogVerifiesAndReportsItsHead() {
        AuditEntry only = audit.append("alice", "run.started", "run:1", "{\"b\": 1, \"a\": [1, 2]}", "k1");

        AuditVerification result = audit.verify();
        assertThat(result.valid()).isTrue();
        assertThat(result.rows()).isEqualTo(1);
        assertThat(result.firstBadId()).isNull();
        assertThat(result.lastHash()).matches("[0-9a-f]{64}").isNotEqualTo(AuditChain.GENESIS);
        assertThat(only.detailsJson()).isEqualTo("{\"a\": [1, 2], \"b\": 1}");
    }

    @Test
    void rowsFromBeforeTheChainAreCountedAndTheChainStartsAfterThem() throws Exception {
        DataSource old = TestPostgres.freshDatabase();
        Flyway.configure().dataSource(old).locations("classpath:db/migration").target("14").load().migrate();
        try (Connection c = old.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO audit_log (actor, action, subject) VALUES ('alice', 'run.started', 'run:old')");
        }
        Migrations.migrate(old);
        AuditLogStore upgraded = new AuditLogStore(old);
        upgraded.append("bob", "run.cancelled", "run:old", null, null);

        AuditVerification result = upgraded.verify();
        assertThat(result.valid()).as(result.reason()).isTrue();
        assertThat(result.rows()).isEqualTo(2);
        assertThat(result.unchainedRows()).isEqualTo(1);
    }

    private void sql(String... statements) throws SQLException {
        try (Connection c = owner.getConnection(); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    private long scalar(String query) throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
