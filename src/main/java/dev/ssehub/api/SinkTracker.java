package dev.ssehub.api;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseBroadcaster;
import jakarta.ws.rs.sse.SseEventSink;

import dev.ssehub.hub.CloseReason;
import dev.ssehub.hub.Connection;

/**
 * Ties each JAX-RS sink to its hub connection. Every sink is registered on the application's
 * {@link SseBroadcaster}, whose close listener fires once per sink, whatever closed it (client gone,
 * server close); the connection then leaves the registry at once. Closing a connection is idempotent,
 * so a close the server started and the listener it triggers meet harmlessly.
 */
@ApplicationScoped
public class SinkTracker {

    private final Map<SseEventSink, Connection> connections = new ConcurrentHashMap<>();

    @Inject
    SseBroadcaster broadcaster;

    @Produces
    @Singleton
    static SseBroadcaster broadcaster(Sse sse) {
        return sse.newBroadcaster();
    }

    @PostConstruct
    void listen() {
        broadcaster.onClose(sink -> closed(sink, CloseReason.CLIENT));
        broadcaster.onError((sink, failure) -> closed(sink, CloseReason.WRITE_ERROR));
    }

    void track(SseEventSink sink, Connection connection) {
        connections.put(sink, connection);
        broadcaster.register(sink);
        if (sink.isClosed()) {
            // Gone before we were listening (quarkusio/quarkus#8858: isClosed can lag; the first write catches the rest).
            closed(sink, CloseReason.CLIENT);
        }
    }

    private void closed(SseEventSink sink, CloseReason reason) {
        Connection c = connections.remove(sink);
        if (c != null) {
            c.close(reason);
        }
    }

    /** Sinks currently tracked (for leak checks). */
    public int size() {
        return connections.size();
    }
}
