package dev.ssehub.security;

import java.time.Instant;
import java.util.function.Predicate;

/**
 * Who is calling, as the service's checks need it: plain values read from a verified token (or, with
 * authentication off, a caller that may do everything and names its user itself).
 *
 * @param authenticated whether the values come from a verified token ({@code sse.auth.enabled=true})
 * @param userId        the token's {@code sub} (else {@code upn}); null with authentication off
 * @param sessionId     the token's {@code sid} claim, or null
 * @param publisher     whether it may publish ({@code sse-publisher} in {@code groups})
 * @param admin         whether it may manage every stream and see every user's figures ({@code sse-admin})
 * @param topics        the topics it may subscribe to (its {@code sse_topics} claim), or null for any topic
 * @param expiresAt     the token's {@code exp}, or null
 * @param principal     the key its publishes are rate-limited under: the user id, or the client address
 */
public record Caller(boolean authenticated, String userId, String sessionId, boolean publisher, boolean admin,
        TopicPatterns topics, Instant expiresAt, String principal) {

    /** Authentication off: everything is allowed, the client names its user; limits apply per client address. */
    public static Caller unauthenticated(String clientAddress) {
        return new Caller(false, null, null, true, true, null, null, clientAddress);
    }

    public boolean mayTopic(String topic) {
        return topics == null || topics.test(topic);
    }

    /** The topic check as the hub keeps it for later subscription changes; null when every topic is allowed. */
    public Predicate<String> topicRule() {
        return topics;
    }

    /** Whether this caller may act on a stream of {@code streamUserId}: its own, or any as admin. */
    public boolean mayManage(String streamUserId) {
        return admin || (userId != null && userId.equals(streamUserId));
    }
}
