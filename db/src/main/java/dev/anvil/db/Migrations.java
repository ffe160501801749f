package dev.anvil.db;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/** Brings a database up to the schema this build expects. */
public final class Migrations {

    static final String LOCATION = "classpath:db/migration";

    private Migrations() {
    }

    /**
     * Applies the pending migrations and returns how many ran: 0 on an up-to-date database, so
     * every process can call it at start-up.
     */
    public static int migrate(DataSource dataSource) {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations(LOCATION)
                // A misnamed file would otherwise be skipped silently and its change never applied.
                .validateMigrationNaming(true)
                .failOnMissingLocations(true)
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
