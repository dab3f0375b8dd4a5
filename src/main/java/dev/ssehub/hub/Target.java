package dev.ssehub.hub;

import java.util.List;
import java.util.Set;

/**
 * Who an event is for. For every field that is given (non-empty), the connection's value must be in
 * the list: AND across fields, OR within a list. Topics match when the connection subscribed to at
 * least one of them. All fields empty: a broadcast.
 */
public record Target(List<String> userIds, List<String> sessionIds, List<String> clientIds, List<String> topics) {

    public static final Target BROADCAST = new Target(List.of(), List.of(), List.of(), List.of());

    public Target {
        userIds = userIds == null ? List.of() : List.copyOf(userIds);
        sessionIds = sessionIds == null ? List.of() : List.copyOf(sessionIds);
        clientIds = clientIds == null ? List.of() : List.copyOf(clientIds);
        topics = topics == null ? List.of() : List.copyOf(topics);
    }

    public boolean isBroadcast() {
        return userIds.isEmpty() && sessionIds.isEmpty() && clientIds.isEmpty() && topics.isEmpty();
    }

    /** Whether a connection with these attributes is addressed by this target. */
    public boolean matches(String clientId, String userId, String sessionId, Set<String> connectionTopics) {
        if (!clientIds.isEmpty() && !clientIds.contains(clientId)) {
            return false;
        }
        if (!userIds.isEmpty() && (userId == null || !userIds.contains(userId))) {
            return false;
        }
        if (!sessionIds.isEmpty() && (sessionId == null || !sessionIds.contains(sessionId))) {
            return false;
        }
        if (!topics.isEmpty()) {
            for (String t : topics) {
                if (connectionTopics.contains(t)) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }
}
