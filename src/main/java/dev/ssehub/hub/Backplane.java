package dev.ssehub.hub;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The port through which published events reach every instance. The backplane owns the cluster's
 * order and event ids, its history (what a resuming client may still get) and idempotency; the hub
 * delivers what the backplane hands it to this instance's streams. Implementations live in the
 * {@code backplane} package: {@code memory} (this process only, the embedded default) and {@code redis}
 * (one Redis Stream shared by every instance).
 *
 * <p><b>Publishing</b> is asynchronous: {@link #publish} returns at once, holds no lock of the hub, and
 * completes when the backplane has accepted the events (numbered them, in the order given, after every
 * event it accepted before) or refused them. A refusal is a {@link UnavailableException}: nothing of the
 * request was accepted and no stream anywhere receives it. An idempotency key seen within the window
 * publishes nothing and answers the earlier event.
 *
 * <p><b>Delivery</b>: from {@link #start} on, every event accepted anywhere in the cluster is handed to
 * {@link Receiver#deliver}, one at a time, in id order, once, on a thread of the backplane's. Ids are
 * {@code <epochMillis>-<sequence>}, strictly increasing across the cluster. When the backplane's history
 * restarts (it lost its data, or this instance could not follow it), {@link Receiver#restart} says from
 * which id on history is complete again, before any later event is delivered. A publish completes after
 * this instance delivered the event (so the answer can say how many local streams it was queued to), or
 * after a short wait if this instance lags behind its backplane.
 *
 * <p><b>Availability</b>: {@link #isUp} is false while the backplane cannot accept events; delivery of
 * accepted events resumes where it stopped once the backplane is back.
 */
public interface Backplane {

    /** Where delivered events go. */
    interface Receiver {
        /** One event, in id order; returns the local streams it was queued to. */
        int deliver(Event event);

        /**
         * One event of the history this instance loads when it starts (before any {@link #deliver}), in id
         * order: kept for clients that resume, not sent to the streams open now.
         */
        void history(Event event);

        /**
         * The history starts again at {@code historyStart}: events before it are no longer available, and
         * a client resuming from before it may have missed some.
         */
        void restart(EventId historyStart);
    }

    /**
     * The outcome of one draft: its event id and time (the earlier event's, for a repeated idempotency
     * key), and how many of this instance's streams it was queued to.
     */
    record Published(EventId id, String type, Instant timestamp, int delivered, boolean duplicate) {
    }

    /** The backplane cannot accept events now; nothing of the request was accepted. */
    final class UnavailableException extends RuntimeException {
        public UnavailableException(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    /**
     * Starts delivery to {@code receiver}: first {@link Receiver#restart} with the start of the history
     * this instance can serve, then the events of that history still held (so a client can resume on any
     * instance), then every new event. Returns when the history is loaded, or when the backplane is found
     * unavailable (delivery then starts when it comes back).
     */
    void start(Receiver receiver);

    /** Publishes the drafts, in this order; see the class doc. */
    CompletionStage<List<Published>> publish(List<Event.Draft> drafts);

    /** Whether events published now will be accepted. */
    boolean isUp();

    /** A short name for health output and logs ({@code memory}, {@code redis}). */
    String name();

    /** What an operator should know about the backplane's state now (for readiness), e.g. why it is down. */
    String status();

    /** Events accepted by the backplane that this instance has not received yet (as last measured). */
    default long lagEntries() {
        return 0;
    }

    /** Times this instance reconnected to the backplane after losing it. */
    default long reconnects() {
        return 0;
    }

    /** Stops delivery and releases connections. */
    void stop();

    /**
     * Development reset: forgets the history and the idempotency keys, as a new cluster would. Other
     * instances see a restart of the history.
     */
    CompletionStage<Void> reset();
}
