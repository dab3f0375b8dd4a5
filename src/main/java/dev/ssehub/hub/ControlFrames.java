package dev.ssehub.hub;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The frames the service itself sends, none with an {@code id:} line so none moves a browser's last
 * event id: the first frame of every stream, {@code replay_truncated}, {@code token_expired} and heartbeats. The records are
 * the JSON of their {@code data} lines (public for the API description).
 */
public final class ControlFrames {

    /** The data of the first frame of every stream. */
    @RegisterForReflection
    public record Established(String clientId, String userId, String sessionId, List<String> topics, List<String> types,
            long heartbeatIntervalMs, String serverTime) {
    }

    @RegisterForReflection
    public record Truncated(String requested, String oldest) {
    }

    @RegisterForReflection
    public record Heartbeat(long ts) {
    }

    /** The data of {@code token_expired}: when the stream's time ran out, in epoch seconds (the token's {@code exp}). */
    @RegisterForReflection
    public record TokenExpired(long exp) {
    }

    private final ObjectMapper mapper;
    private final HubSettings settings;

    ControlFrames(ObjectMapper mapper, HubSettings settings) {
        this.mapper = mapper;
        this.settings = settings;
    }

    /** {@code retry:} and {@code connection_established}, dispatched by the browser as one event. */
    Frame established(Connection c) {
        Subscription s = c.subscription();
        return new Frame(WireFormat.established(settings.retry().toMillis(), json(new Established(c.clientId(),
                c.userId(), c.sessionId(), Subscription.sorted(s.topics()), Subscription.sorted(s.types()),
                settings.heartbeatEvery().toMillis(), Instant.now().toString()))));
    }

    /** The client asked to resume after {@code requested}, but events after it are no longer held. */
    Frame truncated(String requested, EventId oldest) {
        return new Frame(WireFormat.control("replay_truncated",
                json(new Truncated(requested, oldest == null ? null : oldest.toString()))));
    }

    /** The last frame of a stream whose end time came; the stream is closed once it is written. */
    Frame tokenExpired(Instant endsAt) {
        return new Frame(WireFormat.control("token_expired", json(new TokenExpired(endsAt.getEpochSecond()))));
    }

    Frame heartbeat(long nowMillis) {
        return new Frame(settings.heartbeatMode() == HubSettings.HeartbeatMode.COMMENT
                ? WireFormat.comment("heartbeat")
                : WireFormat.control("heartbeat", json(new Heartbeat(nowMillis))));
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }
}
