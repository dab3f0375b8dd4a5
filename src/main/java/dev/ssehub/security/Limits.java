package dev.ssehub.security;

import jakarta.inject.Inject;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

import dev.ssehub.config.SseConfig;

/**
 * The service's rate limits: publishes per publisher ({@code sse.publish.rate}, {@code sse.publish.burst};
 * the token's user, or the client address with authentication off) and stream opens per client address
 * ({@code sse.connect.rate}, bursts of one second's worth).
 */
@ApplicationScoped
public class Limits {

    @Inject
    SseConfig config;
    private RateLimiter publish;
    private RateLimiter connect;

    @PostConstruct
    void init() {
        publish = new RateLimiter(config.publish().rate(), config.publish().burst());
        connect = new RateLimiter(config.connect().rate(), Math.max(1, config.connect().rate()));
    }

    public RateLimiter publish() {
        return publish;
    }

    public RateLimiter connect() {
        return connect;
    }
}
