package dev.anvil.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Says whether the role a connection runs as could rewrite the audit log: a superuser, the owner
 * of audit_log (who can switch its append-only triggers off), or a role granted UPDATE, DELETE or
 * TRUNCATE on it. The hash chain still shows such a change; this is how a process learns at start-up
 * that its own role could make one.
 */
public final class AuditLogProtection {

    private AuditLogProtection() {
    }

    /** What the connection's role could do to audit_log that it should not, or empty when nothing. */
    public static Optional<String> weakness(DataSource app) {
        Jdbc jdbc = new Jdbc(app);
        return jdbc.queryOne("audit_log", "check protection", "SELECT current_user AS role, r.rolsuper AS super,"
                + " pg_has_role(current_user, c.relowner, 'USAGE') AS owner,"
                + " has_table_privilege('audit_log', 'UPDATE') AS can_update,"
                + " has_table_privilege('audit_log', 'DELETE') AS can_delete,"
                + " has_table_privilege('audit_log', 'TRUNCATE') AS can_truncate"
                + " FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'audit_log'::regclass",
                rs -> {
                    List<String> rights = new ArrayList<>();
                    if (rs.getBoolean("super")) {
                        rights.add("is a superuser");
                    } else if (rs.getBoolean("owner")) {
                        rights.add("owns audit_log, so it can switch its triggers off");
                    }
                    for (String right : List.of("update", "delete", "truncate")) {
                        if (rs.getBoolean("can_" + right)) {
                            rights.add("may " + right.toUpperCase(Locale.ROOT) + " it");
                        }
                    }
                    return rights.isEmpty() ? "" : "the database role '" + rs.getString("role") + "' "
                            + String.join(", ", rights) + ": the audit log is not protected against it";
                }).filter(s -> !s.isEmpty());
    }
}
