package dev.anvil.api.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.AuditLogStore;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Records a state change made through the API in the audit log, in the caller's name, in one
 * line: {@code trail.record("endpoint.deleted", "endpoint:" + name)}. The actor is always the
 * authenticated caller, so no resource can log a change under a name the request chose.
 */
@RequestScoped
public class AuditTrail {
    @Inject AuditLogStore log;
    @Inject CurrentCaller caller;
    @Inject ObjectMapper json;

    /**
     * @param action  what happened, as {@code <thing>.<past tense>} (run.cancelled)
     * @param subject what it happened to, as {@code <kind>:<id>} (run:nightly-3f2a)
     * @param details alternating names and values (null values are left out)
     */
    public void record(String action, String subject, Object... details) {
        if (details.length % 2 != 0) {
            throw new IllegalArgumentException("audit details for '" + action
                    + "' must alternate names and values, got " + details.length + " items");
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < details.length; i += 2) {
            if (details[i + 1] != null) {
                map.put(String.valueOf(details[i]), details[i + 1]);
            }
        }
        log.append(caller.name(), action, subject, map.isEmpty() ? null : toJson(action, map), null);
    }

    private String toJson(String action, Map<String, Object> details) {
        try {
            return json.writeValueAsString(details);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("audit details for '" + action + "' are not JSON-serialisable: "
                    + e.getOriginalMessage(), e);
        }
    }
}
