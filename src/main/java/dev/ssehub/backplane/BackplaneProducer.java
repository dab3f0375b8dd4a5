package dev.ssehub.backplane;

import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.config.SseConfig;
import dev.ssehub.hub.Backplane;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;

/**
 * The backplane {@code sse.backplane} names. The Redis client (configured by {@code quarkus.redis.*}:
 * standalone, Sentinel or Cluster) is looked up only when it is used, so the embedded default needs no
 * Redis and no Redis setting.
 */
public class BackplaneProducer {

    @Produces
    @Singleton
    static Backplane backplane(SseConfig config, Instance<Redis> redis, Vertx vertx, ObjectMapper mapper) {
        return switch (config.backplane()) {
            case MEMORY -> new MemoryBackplane(config.replay().size(), config.replay().maxAge());
            case REDIS -> new RedisBackplane(redis.get(), vertx, mapper, config.redis().prefix(), config.replay().size(),
                    config.replay().maxAge(), config.redis().block());
        };
    }
}
