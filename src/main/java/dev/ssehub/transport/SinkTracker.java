package dev.ssehub.transport;

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
 * Ties each JAX-RS sink to its channel and hub connection. Every sink is registered on the application's
 * {@link SseBroadcaster}, whose close listener fires once per sink, whatever closed it (client gone,
 * server close); the connection then leaves the registry at once and its channel stops counting on its
 * write path. Closing a connection is idempotent, so a close the server started and the listener it
 * triggers meet harmlessly.
 */
@ApplicationScoped
public class SinkTracker {

    private final Map<SseEventSink, VertxSseChannel> channels = new ConcurrentHashMap<>();

    @Inject
    SseBroadcaster broadcaster;

    @Produces
    @Singleton
    static SseBroadcaster broadcaster(Sse sse) {
        return sse.newBroadcaster();
    }

    @PostConstruct
    void listen() {
        broadcaster.onClose(this::closed);
    }

    /** Starts tracking an open stream. */
    public void track(SseEventSink sink, VertxSseChannel channel, Connection connection) {
        channel.connection = connection;
        channels.put(sink, channel);
        broadcaster.register(sink);
        if (sink.isClosed()) {
            // Gone before we were listening (quarkusio/quarkus#8858: isClosed can lag; the first write catches the rest).
            closed(sink);
        }
    }

    private void closed(SseEventSink sink) {
        VertxSseChannel ch = channels.remove(sink);
        if (ch != null) {
            ch.released();
            ch.connection.close(CloseReason.CLIENT);
        }
    }

    /** Sinks currently tracked (for leak checks). */
    public int size() {
        return channels.size();
    }

    /** The channel of an open stream, by its hub connection's client id; null when there is none. */
    VertxSseChannel channelOf(String clientId) {
        for (VertxSseChannel ch : channels.values()) {
            if (ch.connection.clientId().equals(clientId)) {
                return ch;
            }
        }
        return null;
    }
}
