package dev.anvil.db;

import java.util.Map;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Brings a database up to the schema this build expects.
 *
 * <p>Run as the role that owns the tables, naming the application's own role: after every migrate
 * the callback {@code db/callback/afterMigrate__grant_app_role.sql} grants that role the rows it
 * works with, and audit_log for appending and reading only. The application's role then cannot
 * ALTER or DROP tables, switch triggers off, or change the audit log.
 */
public final class Migrations {

    static final String LOCATION = "classpath:db/migration";
    static final String CALLBACKS = "classpath:db/callback";
    /** The Flyway placeholder the grant callback reads the application's role from. */
    static final String APP_ROLE_PLACEHOLDER = "app_role";
    /** Plain role names only: the name is placed into SQL by Flyway's placeholder replacement. */
    private static final Pattern ROLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    private Migrations() {
    }

    /**
     * Applies the pending migrations as the only role there is: it owns the tables and keeps every
     * right over them, audit_log included ({@link AuditLogProtection} says so). Returns how many ran:
     * 0 on an up-to-date database, so every process can call it at start-up.
     */
    public static int migrate(DataSource dataSource) {
        return run(dataSource, "");
    }

    /**
     * Applies the pending migrations through {@code owner} (a connection as the role that owns the
     * schema) and grants {@code appRole}, an existing role, what the application needs and no more.
     * The grants are made on every call, so a role created after the migrations ran still gets them.
     *
     * @throws IllegalArgumentException when {@code appRole} is not a plain role name
     */
    public static int migrate(DataSource owner, String appRole) {
        if (appRole == null || !ROLE.matcher(appRole).matches()) {
            throw new IllegalArgumentException("the application's database role '" + appRole + "' is not a plain"
                    + " role name (letters, digits, _ and $, at most 63, not starting with a digit)");
        }
        return run(owner, appRole);
    }

    private static int run(DataSource dataSource, String appRole) {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations(LOCATION, CALLBACKS)
                .placeholders(Map.of(APP_ROLE_PLACEHOLDER, appRole))
                // A misnamed file would otherwise be skipped silently and its change never applied.
                .validateMigrationNaming(true)
                .failOnMissingLocations(true)
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
