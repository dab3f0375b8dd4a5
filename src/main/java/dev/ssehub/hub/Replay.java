package dev.ssehub.hub;

/**
 * Last-Event-ID replay: where a resuming stream starts in the log, the chunks it reads, and its switch
 * to live delivery.
 *
 * <p>A resuming stream is registered in replay mode, so no live event reaches it; it reads the log
 * forward from its cursor, and when a read finds nothing more, {@link #goLive} re-checks the rest of the
 * log and flips it to live under the publish lock. An event published meanwhile is either still in the
 * log (the re-check finds it and the stream reads on) or offered live after the flip: never both, never
 * neither.
 */
final class Replay {

    /** Events per replay write, and log positions scanned per read. */
    static final int BATCH = 256;
    static final int SCAN = 4096;

    private final ReplayLog log;
    private final Object publishLock;
    private final ControlFrames frames;

    Replay(ReplayLog log, Object publishLock, ControlFrames frames) {
        this.log = log;
        this.publishLock = publishLock;
        this.frames = frames;
    }

    ReplayLog.Start startAfter(EventId lastSeen) {
        return log.startAfter(lastSeen);
    }

    /** The next chunk of events for this stream at or after {@code cursor}. */
    ReplayLog.Chunk chunk(Connection c, long cursor) {
        return log.read(cursor, BATCH, SCAN, Connection.MAX_WRITE_BYTES, c::accepts);
    }

    /**
     * Switches a replaying stream to live delivery if nothing for it was appended at or after
     * {@code cursor}; false when there is more to read first.
     */
    boolean goLive(Connection c, long cursor) {
        synchronized (publishLock) {
            long pos = cursor;
            while (pos < log.head()) {
                ReplayLog.Chunk more = log.read(pos, 1, SCAN, Long.MAX_VALUE, c::accepts);
                if (!more.events().isEmpty() || more.fellBehind()) {
                    return false;
                }
                pos = more.next();
            }
            c.markLive();
            return true;
        }
    }

    Frame truncated(String requested, EventId oldest) {
        return frames.truncated(requested, oldest);
    }
}
