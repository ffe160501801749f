package dev.anvil.modelkit.datasets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.datasets.CsvDatasetImporter.ColumnRoles;
import dev.anvil.modelkit.datasets.CsvDatasetImporter.HeaderMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvColumnRolesTest {
    @TempDir Path dir;

    @Test
    void theLabelAndIgnoredColumnsAreNamedByTheHeaderOrByIndex() throws IOException {
        Path csv = dir.resolve("people.csv");
        Files.writeString(csv, "id,class,height,weight\n7,1,1.8,80\n8,0,1.6,55\n");

        Dataset byName = new CsvDatasetImporter("x", new ColumnRoles(HeaderMode.AUTO, Optional.of("class"), false,
                List.of("id"))).read(csv);
        assertThat(byName.inputs().get("x").shape()).containsExactly(2, 2);
        assertThat(byName.inputs().get("x").toFloatArray()).containsExactly(1.8f, 80f, 1.6f, 55f);
        assertThat(byName.labels().orElseThrow().toLongArray()).containsExactly(1, 0);

        Dataset byIndex = new CsvDatasetImporter("x", new ColumnRoles(HeaderMode.PRESENT, Optional.of("2"), false,
                List.of("1"))).read(csv);
        assertThat(byIndex).isEqualTo(byName);

        Dataset unlabelled = new CsvDatasetImporter("x", new ColumnRoles(HeaderMode.AUTO, Optional.empty(), true,
                List.of("id"))).read(csv);
        assertThat(unlabelled.inputs().get("x").shape()).containsExactly(2, 3);
        assertThat(unlabelled.labels()).isEmpty();
    }

    @Test
    void aColumnThatDoesNotExistIsNamedWithTheChoices() throws IOException {
        Path csv = dir.resolve("people.csv");
        Files.writeString(csv, "id,class,height\n7,1,1.8\n");
        assertThatThrownBy(() -> new CsvDatasetImporter("x", new ColumnRoles(HeaderMode.AUTO, Optional.of("species"),
                false, List.of())).read(csv))
                .isInstanceOf(DatasetFormatException.class)
                .hasMessageContaining("label column 'species' does not exist in people.csv")
                .hasMessageContaining("[id, class, height]");

        Path headless = dir.resolve("numbers.csv");
        Files.writeString(headless, "1,2,3\n4,5,6\n");
        assertThatThrownBy(() -> new CsvDatasetImporter("x", new ColumnRoles(HeaderMode.ABSENT, Optional.of("4"),
                false, List.of())).read(headless))
                .isInstanceOf(DatasetFormatException.class).hasMessageContaining("1-based index 1..3");
    }
}
