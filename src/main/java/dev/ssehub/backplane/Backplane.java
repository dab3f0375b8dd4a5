package dev.ssehub.backplane;

import java.util.function.ToIntFunction;

import dev.ssehub.hub.Event;

/**
 * Where published events go so that every instance receives every event, in one order, with one id.
 * The hub depends on this interface only; storage and cluster transport stay behind it.
 */
public interface Backplane {

    /** The event as the backplane numbered it, and how many local connections it was queued to. */
    record Published(Event event, int delivered) {
    }

    /**
     * Starts delivery: from now on every event, published here or on another instance, is handed to
     * {@code receiver}, one at a time, in id order. The receiver answers how many local connections
     * the event was queued to.
     */
    void start(ToIntFunction<Event> receiver);

    /** Assigns the draft its cluster-wide id and delivers it; the caller serialises calls. */
    Published publish(Event.Draft draft);

    /** Whether events published now will reach the other instances. */
    boolean isUp();

    String name();
}
