package dev.ssehub.api;

import java.util.concurrent.TimeUnit;

/** Retry-After of the rate limits. */
final class Limit {

    private Limit() {
    }

    /** Whole seconds, rounded up, at least 1: the refill time of the bucket a request found short. */
    static int retryAfterSeconds(long waitNanos) {
        long s = (waitNanos + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, s));
    }
}
