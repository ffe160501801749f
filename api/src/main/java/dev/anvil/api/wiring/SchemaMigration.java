package dev.anvil.api.wiring;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.AuditLogProtection;
import dev.anvil.db.Migrations;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Brings the schema up to date at start-up. With owner credentials (ANVIL_DB_OWNER_USER) the
 * migrations run as that role, over a connection of their own, and grant the role Anvil connects as
 * (ANVIL_DB_USER) rows only; without them that one role migrates, owns every table, and could
 * switch the audit log's triggers off, which start-up says in a warning.
 */
@ApplicationScoped
public class SchemaMigration {
    private static final Logger LOG = Logger.getLogger(SchemaMigration.class);

    @Inject AnvilConfig config;
    @Inject AgroalDataSource dataSource;
    @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url;
    @ConfigProperty(name = "quarkus.datasource.username") String appUser;

    /** Applies pending migrations and warns when the application's role could rewrite the audit log. */
    public void migrate() {
        Optional<String> owner = config.db().ownerUser().filter(o -> !o.isBlank() && !o.equals(appUser));
        try {
            int applied = owner.isPresent()
                    ? Migrations.migrate(ownerDataSource(owner.get()), appUser)
                    : Migrations.migrate(dataSource);
            LOG.infof("database schema up to date (%d migration(s) applied as %s)", applied, owner.orElse(appUser));
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot migrate " + describe(owner.orElse(appUser)) + ": " + e.getMessage()
                    + ". Start the local stack (./anvil up) or point ANVIL_DB_URL at a running PostgreSQL"
                    + (owner.isPresent() ? ", with ANVIL_DB_OWNER_USER and ANVIL_DB_OWNER_PASSWORD for its owner role." : "."),
                    e);
        }
        try {
            AuditLogProtection.weakness(dataSource).ifPresent(weakness -> LOG.warnf("%s. Run the migrations as the"
                    + " schema's owner (ANVIL_DB_OWNER_USER, ANVIL_DB_OWNER_PASSWORD) and connect as a role of its own"
                    + " (ANVIL_DB_USER), as ./anvil up and docker-compose.yml do (README, Security).", weakness));
        } catch (RuntimeException e) {
            LOG.warnf("could not check the database role's rights over audit_log: %s", e.getMessage());
        }
    }

    private PGSimpleDataSource ownerDataSource(String owner) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(owner);
        config.db().ownerPassword().ifPresent(ds::setPassword);
        return ds;
    }

    private String describe(String role) {
        String where = url;
        try (Connection c = dataSource.getConnection()) {
            where = c.getMetaData().getURL();
        } catch (SQLException ignored) {
            // the configured URL says as much
        }
        return where + " as " + role;
    }
}
