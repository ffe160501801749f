package dev.anvil.db;

import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Keeps db/schema.sql equal to what the migrations build, so a schema change shows up in review
 * as a diff of that file next to the new migration.
 */
class SchemaDumpTest {

    private static final Path COMMITTED = Path.of("schema.sql");
    private static final Path REGENERATED = Path.of("target", "schema.sql");

    @Test
    void committedSchemaDumpMatchesTheMigrations() throws Exception {
        String actual = SchemaDump.dump(TestPostgres.migratedDatabase());

        if (Boolean.getBoolean("anvil.updateSchemaDump")) {
            Files.writeString(COMMITTED, actual, StandardCharsets.UTF_8);
            return;
        }
        String committed = Files.exists(COMMITTED) ? Files.readString(COMMITTED, StandardCharsets.UTF_8) : "";
        if (!committed.equals(actual)) {
            Files.createDirectories(REGENERATED.getParent());
            Files.writeString(REGENERATED, actual, StandardCharsets.UTF_8);
            fail("db/schema.sql does not match the schema the migrations build. Compare it with db/target/schema.sql"
                    + " (diff db/schema.sql db/target/schema.sql); if the change is intended, regenerate it with"
                    + " ./mvnw -pl db -am test -Dtest=SchemaDumpTest -Dsurefire.failIfNoSpecifiedTests=false"
                    + " -Danvil.updateSchemaDump=true and commit it with the migration.");
        }
    }
}
