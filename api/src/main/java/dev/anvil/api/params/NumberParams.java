package dev.anvil.api.params;

import dev.anvil.api.problem.ProblemException;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.ext.ParamConverter;
import jakarta.ws.rs.ext.ParamConverterProvider;
import jakarta.ws.rs.ext.Provider;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.function.Function;

/**
 * Whole-number parameters ({@code ?limit=abc}) that do not parse are the caller's mistake: 400 with
 * a problem naming the parameter. Without this, JAX-RS answers a bad query or path parameter with
 * 404, as if the resource did not exist.
 */
@Provider
public class NumberParams implements ParamConverterProvider {
    @Override
    @SuppressWarnings("unchecked")
    public <T> ParamConverter<T> getConverter(Class<T> rawType, Type genericType, Annotation[] annotations) {
        if (rawType == int.class || rawType == Integer.class) {
            return (ParamConverter<T>) new Whole<>(name(annotations), Integer::valueOf);
        }
        if (rawType == long.class || rawType == Long.class) {
            return (ParamConverter<T>) new Whole<>(name(annotations), Long::valueOf);
        }
        return null;
    }

    private static String name(Annotation[] annotations) {
        for (Annotation a : annotations == null ? new Annotation[0] : annotations) {
            if (a instanceof QueryParam q) {
                return q.value();
            } else if (a instanceof PathParam p) {
                return p.value();
            } else if (a instanceof HeaderParam h) {
                return h.value();
            } else if (a instanceof FormParam f) {
                return f.value();
            } else if (a instanceof CookieParam c) {
                return c.value();
            }
        }
        return "parameter";
    }

    private record Whole<N extends Number>(String name, Function<String, N> parse) implements ParamConverter<N> {
        @Override
        public N fromString(String value) {
            if (value == null) {
                return null;
            }
            try {
                return parse.apply(value.strip());
            } catch (NumberFormatException e) {
                String detail = "'" + name + "' must be a whole number, got '" + value + "'";
                // a WebApplicationException passes through JAX-RS as is; ProblemMappers answers with its cause
                throw new BadRequestException(detail, ProblemException.badRequest(name, detail));
            }
        }

        @Override
        public String toString(N value) {
            return String.valueOf(value);
        }
    }
}
