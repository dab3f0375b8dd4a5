package dev.ssehub.hub;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The log lines of a stream's life, in the category {@code dev.ssehub.connections}: opened and closed at
 * INFO (slow consumers and timeouts at WARN), refused at DEBUG (a full instance refuses many). Each line
 * carries the stream's identity as MDC fields, which the JSON console format
 * ({@code quarkus.log.console.json.enabled}) writes as {@code "mdc": {"event", "clientId", "userId",
 * "sessionId", "remoteAddress", "reason"}}; the text format has the same values in the message. Nothing
 * here ever holds a token: ids come from the token's claims, never the token itself.
 */
final class ConnectionLog {

    static final Logger LOG = Logger.getLogger("dev.ssehub.connections");

    private ConnectionLog() {
    }

    static void opened(Connection c, EventId resumeAfter) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        withFields("stream_opened", c.clientId(), c.userId(), c.sessionId(), c.remoteAddress(), null,
                () -> LOG.infof("Stream %s opened (user %s, session %s, from %s, topics %s, types %s, resume after %s)",
                        c.clientId(), c.userId(), c.sessionId(), c.remoteAddress(), Subscription.sorted(c.topics()),
                        Subscription.sorted(c.types()), resumeAfter));
    }

    static void closed(Connection c, CloseReason reason, Logger.Level level, String why) {
        if (!LOG.isEnabled(level)) {
            return;
        }
        withFields("stream_closed", c.clientId(), c.userId(), c.sessionId(), c.remoteAddress(), reason.label(),
                () -> LOG.logf(level, "Stream %s closed (%s) after %d events (user %s, from %s)%s", c.clientId(),
                        reason.label(), c.eventsSent(), c.userId(), c.remoteAddress(), why == null ? "" : ": " + why));
    }

    static void refused(Hub.StreamRequest req, ConnectionRegistry.Rejection rejection) {
        if (!LOG.isDebugEnabled()) {
            return;
        }
        withFields("stream_refused", null, req.userId(), req.sessionId(), req.remoteAddress(), rejection.label(),
                () -> LOG.debugf("Refused stream (%s) from %s, user %s", rejection.label(), req.remoteAddress(),
                        req.userId()));
    }

    private static final String[] KEYS = { "event", "clientId", "userId", "sessionId", "remoteAddress", "reason" };

    private static void withFields(String event, String clientId, String userId, String sessionId, String remote,
            String reason, Runnable log) {
        String[] values = { event, clientId, userId, sessionId, remote, reason };
        for (int i = 0; i < KEYS.length; i++) {
            if (values[i] != null) {
                MDC.put(KEYS[i], values[i]);
            }
        }
        try {
            log.run();
        } finally {
            for (String k : KEYS) {
                MDC.remove(k);
            }
        }
    }
}
