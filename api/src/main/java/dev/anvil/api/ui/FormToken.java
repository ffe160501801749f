package dev.anvil.api.ui;

import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Named;

/**
 * This request's form token, which every form of the UI's pages carries as the hidden field {@value #FIELD}
 * (templates read it as {@code inject:formToken.value}). {@link FormTokens} sets it.
 */
@RequestScoped
@Named("formToken")
public class FormToken {
    /** The form field, and the cookie ({@value #COOKIE}) holding the same value. */
    public static final String FIELD = "csrf";
    public static final String COOKIE = "anvil_csrf";

    private String value = "";

    public String getValue() {
        return value;
    }

    void set(String value) {
        this.value = value;
    }
}
