package dev.ssehub.config;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import dev.ssehub.hub.HubSettings;

/** Hands the domain its settings from the {@code sse.*} configuration. */
public class HubSettingsProducer {

    @Produces
    @Singleton
    static HubSettings hubSettings(SseConfig c) {
        return new HubSettings(c.retry(), c.heartbeat().interval(), c.heartbeat().mode(), c.clientTimeout(),
                c.maxClients(), c.maxConnectionsPerUser(), c.queueSize(), c.queueBytes().asLongValue(),
                c.queueTotalBytes().asLongValue(), c.maxBatchBytes().asLongValue(), c.slowConsumer(), c.replay().size(),
                c.replay().maxBytes().asLongValue(), c.replay().maxAge());
    }
}
