package dev.anvil.api.artifacts;

import jakarta.ws.rs.core.MediaType;
import java.util.Locale;
import java.util.Set;

/**
 * The Content-Type an artifact's bytes are served with. Anyone with the submitter role may upload bytes
 * and name their media type, and the content is served on the reviewer UI's origin, so a recorded type a
 * browser would render or run (text/html, image/svg+xml, application/javascript, ...) must never reach
 * it: only the types below are served as recorded, every other one as application/octet-stream. The
 * recorded type stays in the artifact's metadata.
 */
final class ServedContentType {
    /** Types a browser neither renders as a document nor runs, which Anvil's own artifacts use. */
    static final Set<String> ALLOWED = Set.of(
            MediaType.APPLICATION_OCTET_STREAM,
            "application/onnx", "application/vnd.onnx", "application/x-onnx",
            MediaType.APPLICATION_JSON,
            "application/yaml",
            "application/zip", "application/vnd.anvil.dataset+zip",
            MediaType.TEXT_PLAIN,
            "text/csv");

    private ServedContentType() {
    }

    /** {@code recorded} when it is on the allowlist (parameters dropped), else application/octet-stream. */
    static String of(String recorded) {
        if (recorded == null) {
            return MediaType.APPLICATION_OCTET_STREAM;
        }
        String type = recorded.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return ALLOWED.contains(type) ? type : MediaType.APPLICATION_OCTET_STREAM;
    }
}
