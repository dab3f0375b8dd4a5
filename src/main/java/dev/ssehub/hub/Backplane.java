package dev.ssehub.hub;

import java.util.function.ToIntFunction;

/**
 * The port through which published events reach every instance, in one order, with one id. The hub
 * depends on this interface only; storage and cluster transport stay behind it, in the
 * {@code backplane} package.
 *
 * <p>Contract: {@link #publish} assigns the draft its cluster-wide {@link EventId} (strictly increasing)
 * and hands the event to the receiver given to {@link #start}; events published elsewhere reach the
 * receiver too. The receiver is called for one event at a time, in id order. The caller of
 * {@link #publish} serialises its calls (the hub's publish lock).
 */
public interface Backplane {

    /** The event as the backplane numbered it, and how many local streams it was queued to. */
    record Published(Event event, int delivered) {
    }

    /**
     * Starts delivery: from now on every event, published here or on another instance, is handed to
     * {@code receiver}, one at a time, in id order. The receiver answers how many local streams the
     * event was queued to.
     */
    void start(ToIntFunction<Event> receiver);

    /** Assigns the draft its cluster-wide id and delivers it. */
    Published publish(Event.Draft draft);

    /** Whether events published now will reach the other instances. */
    boolean isUp();

    /** A short name for health output and logs ({@code memory}, {@code redis}). */
    String name();
}
