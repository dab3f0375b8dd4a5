package dev.ssehub.config;

import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.annotation.Priority;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.Priorities;

/**
 * Applies {@link ConfigCheck}'s rules to every {@code sse.*} value as SmallRye Config reads it, before it is
 * converted. An invalid value then fails the configuration mapping itself, the first step of start-up (before
 * the scheduler or the HTTP server exist), and Quarkus prints the mapping's problems, one line each, without a
 * stack trace. Registered in {@code META-INF/services/io.smallrye.config.ConfigSourceInterceptor}.
 *
 * <p>It sits outside SmallRye's own interceptors (profiles, expressions), so it sees the value the mapping
 * gets: {@code %prod.} and {@code ${...}} already resolved.
 *
 * <p>A Quarkus key that only forwards an {@code sse.*} key ({@code quarkus.shutdown.delay=${sse.shutdown.drain:5s}})
 * keeps its own default while that key is invalid: start-up fails on the {@code sse.*} key anyway, and the
 * forwarded value would add a second, confusing line about a key the user never set.
 */
@Priority(Priorities.APPLICATION)
public class ConfigCheckInterceptor implements ConfigSourceInterceptor {

    private static final long serialVersionUID = 1L;

    /** {@code ${sse.some.key}} or {@code ${sse.some.key:default}}, and nothing else. */
    private static final Pattern FORWARD = Pattern.compile("\\$\\{(sse\\.[^:}]+)(?::([^}]*))?}");

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue value = context.proceed(name);
        if (value == null || value.getValue() == null) {
            return value;
        }
        UnaryOperator<String> other = key -> {
            ConfigValue v = context.proceed(key); // below this interceptor: no recursion
            return v == null ? null : v.getValue();
        };
        if (name.startsWith("sse.")) {
            ConfigCheck.problem(name, value.getValue(), other).ifPresent(problem -> {
                throw new InvalidValueException(problem);
            });
        } else if (value.getRawValue() != null) {
            Matcher forward = FORWARD.matcher(value.getRawValue().trim());
            if (forward.matches() && forward.group(2) != null
                    && ConfigCheck.problem(forward.group(1), value.getValue(), other).isPresent()) {
                return value.withValue(forward.group(2));
            }
        }
        return value;
    }

    /**
     * SmallRye Config reports a failed mapping property as the exception's {@code toString()}: this one is
     * just the message, so the printed line is ours alone.
     */
    static final class InvalidValueException extends IllegalArgumentException {

        private static final long serialVersionUID = 1L;

        InvalidValueException(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }
}
