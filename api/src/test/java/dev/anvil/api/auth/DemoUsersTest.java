package dev.anvil.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.db.ApiTokenStore;
import dev.anvil.db.Migrations;
import dev.anvil.devstack.LocalStack;
import dev.anvil.devstack.SharedLocalStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/** The local stack's demo users, seeded into a real PostgreSQL. */
class DemoUsersTest {
    @TempDir
    Path dir;

    @Test
    void aMissingFileGetsFreshTokensKeptOwnerOnlyAndSeedingAgainChangesNothing() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        PGSimpleDataSource db = new PGSimpleDataSource();
        db.setURL(SharedLocalStack.freshDatabase("demo_users"));
        db.setUser(stack.config().dbUser());
        db.setPassword(stack.config().dbPassword());
        Migrations.migrate(db);
        ApiTokenStore store = new ApiTokenStore(db);
        Path file = dir.resolve("anvil/demo-tokens");

        Map<String, String> first = DemoUsers.seed(file, store);
        Map<String, String> again = DemoUsers.seed(file, store);

        assertThat(first).containsOnlyKeys("admin", "submitter", "reviewer", "viewer", "invoker").isEqualTo(again);
        assertThat(first.values()).allSatisfy(t -> assertThat(t).startsWith("anvil_").hasSizeGreaterThan(40));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(store.authenticate(first.get("reviewer")).orElseThrow().principal()).isEqualTo("demo-reviewer");
        assertThat(store.authenticate(first.get("admin")).orElseThrow().roles()).containsExactly("admin", "submitter");
        assertThat(store.listByPrincipal("demo-submitter")).hasSize(1);
    }
}
