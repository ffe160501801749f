package dev.anvil.api.airflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a read of a try's log ended, as the Airflow log endpoint's {@code continuation_token}: the run, task and try
 * it belongs to and a position, in bytes of the captured log ({@code captured}) or in lines of what Anvil recorded of
 * the attempt when it kept no log. URL-safe base64 of a small JSON object; it holds nothing secret (the caller may
 * read the whole log anyway), so it is checked, not signed: a token for another try, or one that is not ours, is
 * refused with Airflow's message for a bad token.
 */
record AirflowLogToken(String run, String task, int tryNumber, boolean captured, long position) {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String BAD = "Bad Signature. Please use only the tokens provided by the API.";

    String encode() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", run);
        m.put("task", task);
        m.put("try", tryNumber);
        m.put("source", captured ? "captured" : "recorded");
        m.put("pos", position);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(AirflowLogs.toJson(m).getBytes(StandardCharsets.UTF_8));
    }

    /** The token a client sent for this run, task and try; 400 (Airflow's bad-token answer) for anything else. */
    static AirflowLogToken decode(String token, String run, String task, int tryNumber) {
        JsonNode n;
        try {
            if (token.length() > 1024) {
                throw new IllegalArgumentException("too long");
            }
            n = JSON.readTree(Base64.getUrlDecoder().decode(token));
        } catch (IllegalArgumentException | java.io.IOException e) {
            throw AirflowException.badRequest(BAD);
        }
        if (n == null || !n.isObject() || !n.path("run").isTextual() || !n.path("task").isTextual()
                || !n.path("try").canConvertToInt() || !n.path("pos").canConvertToLong() || n.path("pos").asLong() < 0
                || !(n.path("source").asText().equals("captured") || n.path("source").asText().equals("recorded"))) {
            throw AirflowException.badRequest(BAD);
        }
        if (!n.path("run").asText().equals(run) || !n.path("task").asText().equals(task) || n.path("try").asInt() != tryNumber) {
            throw AirflowException.badRequest(BAD + " This token continues try " + n.path("try").asInt() + " of task "
                    + n.path("task").asText() + " of run " + n.path("run").asText() + ", not this log.");
        }
        return new AirflowLogToken(run, task, tryNumber, n.path("source").asText().equals("captured"), n.path("pos").asLong());
    }
}
