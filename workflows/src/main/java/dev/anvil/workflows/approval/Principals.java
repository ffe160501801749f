package dev.anvil.workflows.approval;

import java.text.Normalizer;
import java.util.Locale;

/**
 * The one way principals are compared (four-eyes, distinct reviewers, the UI's own-run notice):
 * trimmed, Unicode NFKC and lower-cased, so "Alice", "alice " and the full-width "ａｌｉｃｅ" are one
 * person. Identity providers and token admins spell the same name differently; a rule that compares
 * raw strings lets a person pass as someone else by changing case. Stored names stay as sent.
 * Pure and deterministic, so workflow code may use it.
 */
public final class Principals {
    private Principals() {
    }

    /** The comparable form of {@code principal}; null stays null. */
    public static String normalize(String principal) {
        if (principal == null) {
            return null;
        }
        // NFKC before lower-casing and trimming: it folds compatibility forms (full-width letters,
        // ideographic spaces) into the characters the later steps recognise
        return Normalizer.normalize(principal, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT).strip();
    }

    /** True when both name the same principal; a null never matches. */
    public static boolean same(String a, String b) {
        return a != null && b != null && normalize(a).equals(normalize(b));
    }
}
