package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class MigrationsTest {

    @Test
    void appliesEveryMigrationToAnEmptyDatabaseAndNothingTheSecondTime() throws Exception {
        DataSource db = TestPostgres.freshDatabase();

        int first = Migrations.migrate(db);
        int second = Migrations.migrate(db);

        assertThat(first).isEqualTo(migrationFiles()).isPositive();
        assertThat(second).isZero();
    }

    @Test
    void migrationFilesAreNamedVersionVerbObject() throws Exception {
        Pattern name = Pattern.compile("V[1-9][0-9]*__[a-z]+_[a-z0-9_]+\\.sql");
        try (Stream<Path> files = Files.list(Path.of("src/main/resources/db/migration"))) {
            assertThat(files.map(p -> p.getFileName().toString())).allMatch(n -> name.matcher(n).matches());
        }
    }

    private static long migrationFiles() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("src/main/resources/db/migration"))) {
            return files.count();
        }
    }
}
