package dev.ssehub.hub;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a stream subscribed to: its topics, and the event types it wants (empty: all types). Immutable,
 * and held by its {@link Connection} in one field, so a change replaces both sets at once and a publish
 * sees either the old subscription or the new one, never half of a change.
 */
public record Subscription(Set<String> topics, Set<String> types) {

    /** Topics (and, separately, types) one stream may hold. */
    public static final int MAX_ENTRIES = 64;

    public static final Subscription NONE = new Subscription(Set.of(), Set.of());

    public Subscription {
        topics = Set.copyOf(topics);
        types = Set.copyOf(types);
    }

    /** Whether an event of this type passes the type filter. */
    public boolean wants(String type) {
        return types.isEmpty() || types.contains(type);
    }

    /**
     * This subscription with {@code remove} taken out of its topics, then {@code add} put in, and the
     * type filter replaced by {@code newTypes} unless that is null.
     *
     * @throws IllegalArgumentException when the result would hold more than {@link #MAX_ENTRIES} topics
     */
    public Subscription change(Collection<String> add, Collection<String> remove, Set<String> newTypes) {
        Set<String> t = new LinkedHashSet<>(topics);
        t.removeAll(remove);
        t.addAll(add);
        if (t.size() > MAX_ENTRIES) {
            throw new IllegalArgumentException("A stream holds at most " + MAX_ENTRIES + " topics");
        }
        return new Subscription(t, newTypes == null ? types : newTypes);
    }

    /** The names in ascending order, for answers and the first frame. */
    public static List<String> sorted(Collection<String> names) {
        List<String> l = new ArrayList<>(names);
        l.sort(null);
        return l;
    }
}
