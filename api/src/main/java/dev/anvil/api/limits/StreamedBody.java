package dev.anvil.api.limits;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The endpoint reads its body as a stream and bounds it itself, so {@link BodyLimits}' 1 MiB does
 * not apply: artifact uploads stream to the object store at any size; inference bodies are held to
 * {@code anvil.gateway.max-request-bytes} by the inference resource.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface StreamedBody {}
