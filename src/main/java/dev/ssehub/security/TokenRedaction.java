package dev.ssehub.security;

import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.regex.Pattern;

import org.jboss.logmanager.ExtLogRecord;

import io.quarkus.logging.LoggingFilter;

/**
 * Keeps tokens out of the log, whatever logs them and at whatever level an operator turns on: the
 * console and file handlers pass every record through it ({@code quarkus.log.console.filter}). A JWT
 * ({@code eyJ...}) or an {@code access_token} query value in a message is replaced by {@code [redacted]};
 * a record of the JWT libraries (smallrye-jwt, jose4j) loses its exception, whose messages quote the token
 * (at DEBUG they log every refused token), keeping only the exception classes.
 */
@LoggingFilter(name = TokenRedaction.NAME)
public final class TokenRedaction implements Filter {

    public static final String NAME = "sse-token-redaction";
    static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]*)?");
    static final Pattern QUERY_TOKEN = Pattern.compile("(access_token=)[^&\\s\"]*");
    private static final String[] JWT_LIBRARIES = { "io.quarkus.smallrye.jwt", "io.smallrye.jwt", "org.jose4j" };

    @Override
    public boolean isLoggable(LogRecord record) {
        Throwable thrown = record.getThrown();
        boolean jwtLibrary = fromJwtLibrary(record.getLoggerName());
        String message = formatted(record);
        boolean dropThrown = thrown != null && (jwtLibrary || mentionsToken(thrown));
        String redacted = message == null ? null : redact(message);
        if (dropThrown) {
            redacted = (redacted == null ? "" : redacted) + " [" + classes(thrown) + "; details withheld: they may quote a token]";
            record.setThrown(null);
        }
        if (redacted != null && (dropThrown || !redacted.equals(message))) {
            if (record instanceof ExtLogRecord ext) {
                ext.setMessage(redacted, ExtLogRecord.FormatStyle.NO_FORMAT);
            } else {
                record.setMessage(redacted);
            }
            record.setParameters(null);
        }
        return true;
    }

    /** The text with JWTs and access_token values replaced. */
    public static String redact(String text) {
        if (text.indexOf("eyJ") < 0 && text.indexOf("access_token=") < 0) {
            return text;
        }
        return QUERY_TOKEN.matcher(JWT.matcher(text).replaceAll("[redacted]")).replaceAll("$1[redacted]");
    }

    private static String formatted(LogRecord record) {
        if (record instanceof ExtLogRecord ext) {
            return ext.getFormattedMessage();
        }
        return record.getMessage();
    }

    private static boolean fromJwtLibrary(String logger) {
        if (logger == null) {
            return false;
        }
        for (String prefix : JWT_LIBRARIES) {
            if (logger.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static boolean mentionsToken(Throwable t) {
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            String m = t.getMessage();
            if (m != null && !redact(m).equals(m)) {
                return true;
            }
            if (t.getClass().getName().startsWith("org.jose4j") || t.getClass().getName().startsWith("io.smallrye.jwt")) {
                return true;
            }
        }
        return false;
    }

    private static String classes(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            sb.append(depth == 0 ? "" : " <- ").append(t.getClass().getName());
        }
        return sb.toString();
    }
}
