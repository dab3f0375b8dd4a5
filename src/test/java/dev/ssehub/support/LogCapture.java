package dev.ssehub.support;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;

/**
 * Collects what one logger (and the loggers below it) logs while attached, for tests that check what
 * the service or a library said. The tests run in the application's JVM, where every logger ends in the
 * JBoss log manager (JBoss Logging, JUL and Netty's logging alike).
 */
public final class LogCapture extends Handler implements AutoCloseable {

    /** One record: its level, logger, formatted message and the class and message of its exception, if any. */
    public record Entry(Level level, String logger, String message, String thrown) {
        @Override
        public String toString() {
            return level + " [" + logger + "] " + message + (thrown == null ? "" : " (" + thrown + ")");
        }
    }

    private final Logger logger;
    private final List<Entry> entries = new CopyOnWriteArrayList<>();

    private LogCapture(String loggerName) {
        this.logger = Logger.getLogger(loggerName);
    }

    /** Starts collecting what {@code loggerName} and its children log; {@link #close} stops. */
    public static LogCapture of(String loggerName) {
        LogCapture c = new LogCapture(loggerName);
        c.logger.addHandler(c);
        return c;
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    @Override
    public void publish(LogRecord r) {
        String message = r instanceof ExtLogRecord ext ? ext.getFormattedMessage() : r.getMessage();
        Throwable t = r.getThrown();
        entries.add(new Entry(r.getLevel(), r.getLoggerName(), message, t == null ? null : t.toString()));
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
