package dev.ssehub.hub;

import java.time.Instant;
import java.util.function.Predicate;

/**
 * What a stream's credentials allow it, decided by the security layer and handed to the hub as plain
 * values: when the stream must end, which topics it may subscribe to, and whether its session id is only
 * its client's word.
 *
 * @param endsAt           when the stream must end (its token's {@code exp}, or its maximum lifetime); null: never.
 *                         It then gets {@code token_expired} and is closed.
 * @param topics           the topics it may subscribe to (also on later changes); null: any
 * @param sessionNeedsUser the session id came from the client, not from its token: an event targeted at sessions
 *                         reaches the stream only if the target also names the stream's user, so a client
 *                         cannot claim another user's session to receive that user's events
 */
public record Grant(Instant endsAt, Predicate<String> topics, boolean sessionNeedsUser) {

    /** Authentication off: no end, any topic, the session id as given. */
    public static final Grant UNRESTRICTED = new Grant(null, null, false);

    public boolean mayTopic(String topic) {
        return topics == null || topics.test(topic);
    }
}
