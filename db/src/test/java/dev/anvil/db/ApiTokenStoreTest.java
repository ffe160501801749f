package dev.anvil.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class ApiTokenStoreTest {

    private final DataSource db = TestPostgres.migratedDatabase();
    private final ApiTokenStore tokens = new ApiTokenStore(db);

    @Test
    void onlyTheHashIsStoredAndTheTokenAuthenticates() {
        String token = ApiTokenStore.newToken();
        ApiToken row = tokens.register(token, "rita", List.of("reviewer"), "laptop", "admin");

        assertThat(row.tokenSha256()).isEqualTo(ApiTokenStore.hash(token)).doesNotContain(token);
        assertThat(tokens.authenticate(token)).get().extracting(ApiToken::principal).isEqualTo("rita");
        assertThat(tokens.authenticate(token + "x")).isEmpty();
        String stored = new Jdbc(db).queryOne("api_tokens", "read", "SELECT string_agg(token_sha256 || principal || coalesce(label, ''), ',') FROM api_tokens",
                rs -> rs.getString(1)).orElseThrow();
        assertThat(stored).doesNotContain(token);
    }

    @Test
    void registeringTheSameTokenTwiceKeepsOneRow() {
        String token = ApiTokenStore.newToken();
        tokens.register(token, "sam", List.of("submitter"), null, null);
        ApiToken again = tokens.register(token, "sam", List.of("submitter"), null, null);

        assertThat(again.roles()).containsExactly("submitter");
        assertThat(tokens.listByPrincipal("sam")).hasSize(1);
    }

    @Test
    void aRevokedTokenNoLongerAuthenticates() {
        String token = ApiTokenStore.newToken();
        tokens.register(token, "sam", List.of("submitter", "reviewer"), null, null);

        assertThat(tokens.revoke(ApiTokenStore.hash(token))).isTrue();
        assertThat(tokens.authenticate(token)).isEmpty();
        assertThat(tokens.revoke(ApiTokenStore.hash(token))).isFalse();
    }

    @Test
    void unknownRolesAndMissingPrincipalsAreRefusedByName() {
        assertThatThrownBy(() -> tokens.register(ApiTokenStore.newToken(), "x", List.of("root"), null, null))
                .hasMessageContaining("'root'").hasMessageContaining("[viewer, submitter, reviewer, admin, invoker]");
        assertThatThrownBy(() -> tokens.register(ApiTokenStore.newToken(), " ", List.of("admin"), null, null))
                .hasMessageContaining("principal is required");
    }
}
