package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class AuditLogStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final AuditLogStore audit = new AuditLogStore(db);

    @Test
    void appendsAndListsNewestFirst() {
        AuditEntry first = audit.append("alice", "submit", "run-1", "{\"pipeline\": \"p\"}", null);
        AuditEntry second = audit.append("bob", "approve", "run-1", null, null);
        audit.append("bob", "approve", "run-2", null, null);

        assertThat(first.at()).isNotNull();
        assertThat(first.detailsJson()).isEqualTo("{\"pipeline\": \"p\"}");
        assertThat(audit.listBySubject("run-1", 10)).containsExactly(second, first);
        assertThat(audit.listRecent(2)).hasSize(2);
    }

    @Test
    void aRetriedAppendWithTheSameKeyLogsOnce() {
        AuditEntry first = audit.append("worker", "rollout.promote", "ro-1", null, "ro-1/promote/1");
        AuditEntry again = audit.append("worker", "rollout.promote", "ro-1", null, "ro-1/promote/1");

        assertThat(again).isEqualTo(first);
        assertThat(audit.listBySubject("ro-1", 10)).hasSize(1);
    }

    @Test
    void theDatabaseRefusesUpdateDeleteAndTruncateEvenToTheOwner() {
        audit.append("alice", "submit", "run-1", null, null);
        // the application's role may not even try (security/AppRoleCannotRewriteAuditLogTest); the
        // triggers hold against the owner, as long as it leaves them on
        Jdbc jdbc = new Jdbc(TestPostgres.asOwner(db));

        for (String sql : new String[] {
                "UPDATE audit_log SET actor = 'mallory'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log"}) {
            assertThatThrownBy(() -> jdbc.withConnection("audit_log", "tamper", c -> Jdbc.update(c, sql)))
                    .as(sql)
                    .isInstanceOf(DataAccessException.class)
                    .hasMessageContaining("audit_log is append-only");
        }
        assertThat(audit.listRecent(10)).extracting(AuditEntry::actor).containsExactly("alice");
    }
}
