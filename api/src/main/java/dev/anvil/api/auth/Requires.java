package dev.anvil.api.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The caller must hold one of these roles: without a token the answer is 401, with a token lacking
 * them 403 (both problem JSON). {@link AuthFilter} enforces it; {@code EveryMutatingEndpointIsGuardedTest}
 * keeps every POST/PUT/DELETE under it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Requires {
    Role[] value();
}
