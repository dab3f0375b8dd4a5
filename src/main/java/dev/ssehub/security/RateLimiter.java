package dev.ssehub.security;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Token buckets, one per key (a publisher, a client address): each holds at most {@code capacity} tokens
 * and refills at {@code ratePerSecond}; a request takes as many tokens as it costs, or none and learns how
 * long to wait. Each bucket has its own monitor, held for a few arithmetic operations, so callers with
 * different keys never wait for each other. Buckets that have refilled completely are forgotten (a full
 * bucket and no bucket are the same), swept as the map grows, so the map holds only the keys seen recently.
 * A rate of 0 turns the limiter off.
 */
public final class RateLimiter {

    /** A sweep happens after this many new buckets, so its cost is spread over the requests that created them. */
    private static final int SWEEP_EVERY = 1024;

    private final double tokensPerNano;
    private final double capacity;
    private final long refillNanos;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final AtomicInteger created = new AtomicInteger();

    public RateLimiter(double ratePerSecond, double capacity) {
        this.tokensPerNano = ratePerSecond / TimeUnit.SECONDS.toNanos(1);
        this.capacity = capacity;
        this.refillNanos = ratePerSecond > 0 ? (long) Math.ceil(capacity / tokensPerNano) : 0;
    }

    public boolean enabled() {
        return tokensPerNano > 0;
    }

    public double capacity() {
        return capacity;
    }

    /**
     * Takes {@code cost} tokens from the key's bucket. Returns 0 when they were taken, else the nanoseconds
     * until the bucket holds them ({@link Long#MAX_VALUE} when {@code cost} exceeds the capacity: never).
     */
    public long acquire(String key, int cost, long nowNanos) {
        if (!enabled()) {
            return 0;
        }
        if (cost > capacity) {
            return Long.MAX_VALUE;
        }
        while (true) {
            Bucket b = buckets.get(key);
            if (b == null) {
                b = buckets.computeIfAbsent(key, k -> new Bucket(capacity, nowNanos));
                if (created.incrementAndGet() % SWEEP_EVERY == 0) {
                    sweep(nowNanos);
                }
            }
            long wait = b.take(cost, nowNanos, tokensPerNano, capacity);
            if (wait >= 0) {
                return wait;
            }
            // A sweep is removing this bucket: take from the one that replaces it.
            Thread.onSpinWait();
        }
    }

    /** Forgets the buckets that have refilled completely. */
    void sweep(long nowNanos) {
        buckets.values().removeIf(b -> b.fullAt(nowNanos, refillNanos));
    }

    /** Keys that have a bucket now (for tests and leak checks). */
    public int size() {
        return buckets.size();
    }

    private static final class Bucket {
        private double tokens;
        private long last;
        private boolean swept;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }

        /** 0 when taken, the nanoseconds to wait otherwise, -1 when this bucket is being swept away. */
        synchronized long take(int cost, long now, double perNano, double capacity) {
            if (swept) {
                return -1;
            }
            if (now > last) {
                tokens = Math.min(capacity, tokens + (now - last) * perNano);
                last = now;
            }
            if (tokens >= cost) {
                tokens -= cost;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((cost - tokens) / perNano));
        }

        synchronized boolean fullAt(long now, long refillNanos) {
            swept = now - last >= refillNanos;
            return swept;
        }
    }
}
