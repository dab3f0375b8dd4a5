package dev.ssehub.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.hub.FakeChannel.Completion;
import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;
import dev.ssehub.support.LoopGate;
import dev.ssehub.support.SseClient;

/**
 * {@link Connection} driven by a real {@link Hub} (memory backplane, no Quarkus) over a {@link FakeChannel}:
 * the exact frames it writes, one write in flight whether writes complete at once or later, batching behind
 * a pending write, both slow-consumer policies, write failures, heartbeats and timeouts, and Last-Event-ID
 * replay up to the switch to live delivery. {@link ConnectionResumeRaceTest} races that switch against a
 * publisher.
 */
class ConnectionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int QUEUE = 8;

    private TestHub h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close(); // also fails the test if a channel saw a breach of the SseChannel contract
        }
    }

    private TestHub.Stream open(Completion completion) {
        return open(completion, null);
    }

    private TestHub.Stream open(Completion completion, EventId lastEventId) {
        return h.open(new FakeChannel(completion), "u1", lastEventId, "news");
    }

    /**
     * A hub whose outboxes hold {@link #QUEUE} frames under {@code policy}, and a stream on it whose first
     * write has completed (SYNC) or is held by its client (HOLD).
     */
    private TestHub.Stream smallOutbox(SlowConsumerPolicy policy, Completion completion) {
        h = new TestHub(new TestHub.Settings().queueSize(QUEUE).policy(policy));
        TestHub.Stream s = open(completion);
        if (completion == Completion.HOLD) {
            s.channel().awaitHeld();
        } else {
            s.channel().awaitFrames(1);
        }
        return s;
    }

    private static List<String> ids(List<Event> events) {
        return events.stream().map(Event::idString).toList();
    }

    private static List<String> frameIds(List<SseClient.Frame> frames) {
        return frames.stream().map(SseClient.Frame::id).toList();
    }

    @Test
    void writesTheFirstFrameThenEachEventForItAsOneExactFrame() throws Exception {
        h = new TestHub();
        TestHub.Stream s = open(Completion.SYNC);
        s.channel().awaitFrames(1);

        SseClient.Frame first = s.channel().frames().get(0);
        assertEquals(3000L, first.retry());
        assertEquals("connection_established", first.event());
        assertNull(first.id(), "a control frame must not move the browser's last event id");
        JsonNode est = JSON.readTree(first.data());
        assertEquals(s.connection().clientId(), est.get("clientId").asText());
        assertEquals("u1", est.get("userId").asText());
        assertEquals("[\"news\"]", est.get("topics").toString());
        assertEquals(TestHub.HEARTBEAT.toMillis(), est.get("heartbeatIntervalMs").asLong());

        Event broadcast = h.publish("tick", "{\"n\":1}", Target.BROADCAST).event();
        Event toUser = h.publish("goal", "{\"team\":\"a\",\"text\":\"gr\\u00fc\\u00df\"}",
                new Target(List.of("u1"), null, null, null)).event();
        TestHub.Result toOther = h.publish("tick", "{\"n\":3}", new Target(List.of("u2"), null, null, null));
        Event toTopic = h.publish("tick", "{\"n\":4}", new Target(null, null, null, List.of("news"))).event();
        assertEquals(0, toOther.delivered(), "not for this stream");
        s.channel().awaitEvent(toTopic.idString());

        String text = s.channel().text();
        assertTrue(text.startsWith("retry: 3000\nevent: connection_established\ndata: {"), text);
        assertTrue(text.endsWith("id: " + broadcast.idString() + "\nevent: tick\ndata: {\"n\":1}\n\n"
                + "id: " + toUser.idString() + "\nevent: goal\ndata: {\"team\":\"a\",\"text\":\"gr\\u00fc\\u00df\"}\n\n"
                + "id: " + toTopic.idString() + "\nevent: tick\ndata: {\"n\":4}\n\n"), text);
        assertEquals(4, s.channel().frames().size());

        FakeChannel.eventually("3 events counted", () -> h.listener.deliveredEvents() == 3);
        assertEquals(3, s.connection().eventsSent());
        assertEquals(toTopic.idString(), s.connection().lastEventId());
        assertEquals(0, h.listener.replayedEvents());
    }

    @ParameterizedTest
    @EnumSource(value = Completion.class, names = { "SYNC", "ASYNC", "RANDOM" })
    void everyEventArrivesOnceAndInOrderWhenWritesCompleteAtOnceOrLater(Completion completion) throws Exception {
        h = new TestHub();
        TestHub.Stream s = open(completion);
        int publishers = 3;
        int each = 1000;
        ExecutorService pool = Executors.newFixedThreadPool(publishers);
        List<Event> published = Collections.synchronizedList(new ArrayList<>());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                int from = p * each;
                done.add(pool.submit((Callable<Void>) () -> {
                    published.addAll(h.ticks(from, each));
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        List<Event> expected = new ArrayList<>(published);
        expected.sort((a, b) -> a.id().compareTo(b.id()));
        s.channel().awaitEvent(expected.get(expected.size() - 1).idString());
        assertEquals(ids(expected), s.channel().eventIds());
        FakeChannel.eventually("every event counted", () -> h.listener.deliveredEvents() == publishers * each);
        assertEquals(publishers * each, s.connection().eventsSent());
        assertFalse(s.connection().isClosed());
    }

    @Test
    void eventsArrivingWhileAWriteIsPendingLeaveTogetherInTheNextWrite() {
        h = new TestHub();
        TestHub.Stream s = open(Completion.HOLD);
        FakeChannel ch = s.channel();
        ch.awaitHeld();

        List<Event> events = h.ticks(0, 5);
        assertEquals(5, s.connection().queued());
        assertEquals(1, ch.writeCount(), "no second write while the client has not taken the first");

        ch.release();
        ch.awaitHeld();
        assertEquals(2, ch.writeCount());
        assertEquals(ids(events), frameIds(ch.writes().get(1)), "the five queued events, in one write");
        assertEquals(0, s.connection().queued());
        assertEquals(0, h.listener.deliveredEvents(), "not counted before the write completed");

        ch.release();
        FakeChannel.eventually("5 events counted", () -> h.listener.deliveredEvents() == 5);
        assertEquals(events.get(4).idString(), s.connection().lastEventId());
    }

    @Test
    void disconnectPolicyClosesAStreamWhoseOutboxOverflowsBehindAPendingWrite() {
        TestHub.Stream s = smallOutbox(SlowConsumerPolicy.DISCONNECT, Completion.HOLD);
        FakeChannel ch = s.channel();

        for (int i = 0; i < QUEUE; i++) {
            assertEquals(1, h.tick(i).delivered(), "queued " + i);
        }
        assertFalse(s.connection().isClosed());
        assertEquals(QUEUE, s.connection().queued());

        assertEquals(0, h.tick(QUEUE).delivered(), "the overflowing event is not queued");
        assertTrue(s.connection().isClosed());
        assertEquals(1, h.listener.closedBy(CloseReason.SLOW_CONSUMER));
        assertEquals(1, ch.aborts(), "a stalled socket is aborted, not closed cleanly behind its unread bytes");
        assertEquals(0, ch.closes());
        assertEquals(0, h.hub.registry().size());
        assertEquals(QUEUE, h.listener.droppedFor(DropReason.CONNECTION_CLOSED), "the queued events are counted");
        assertEquals(0, s.connection().queued());

        ch.settle(); // the abort failed the held write on the loop
        assertFalse(ch.inFlight());
        assertEquals(0, h.listener.deliveryErrors(), "the write we aborted failing is no delivery error");
        assertEquals(1, h.listener.closedStreams());
        assertEquals(1, ch.writeCount());
        assertEquals(0, h.tick(99).delivered());
    }

    @Test
    void aBurstWhileTheLoopIsBusyMayExceedTheQueueSizeByOnePublishCall() throws Exception {
        TestHub.Stream s = smallOutbox(SlowConsumerPolicy.DISCONNECT, Completion.SYNC);
        FakeChannel ch = s.channel();

        int burst = QUEUE + Connection.MAX_BURST;
        List<Event> events;
        try (LoopGate busy = ch.pause()) {
            // No write is pending: the frames only wait for the loop, which is not the client's fault.
            events = h.ticks(0, burst);
            assertEquals(burst, s.connection().queued());
            assertFalse(s.connection().isClosed());
        }
        ch.awaitEvent(events.get(burst - 1).idString());
        // The whole burst, in as few writes as the per-write bound allows.
        List<String> written = new ArrayList<>();
        for (int w = 1; w < ch.writes().size(); w++) {
            List<String> ids = frameIds(ch.writes().get(w));
            assertTrue(ids.size() <= Connection.MAX_WRITE_FRAMES, "one write takes at most MAX_WRITE_FRAMES");
            written.addAll(ids);
        }
        assertEquals(ids(events), written);
        assertEquals(1 + (burst + Connection.MAX_WRITE_FRAMES - 1) / Connection.MAX_WRITE_FRAMES, ch.writes().size());
        assertFalse(s.connection().isClosed());
        assertEquals(0, h.listener.closedStreams());
    }

    @Test
    void aBurstBeyondThatClosesTheStream() throws Exception {
        TestHub.Stream s = smallOutbox(SlowConsumerPolicy.DISCONNECT, Completion.SYNC);
        FakeChannel ch = s.channel();

        int burst = QUEUE + Connection.MAX_BURST;
        try (LoopGate busy = ch.pause()) {
            h.ticks(0, burst);
            assertFalse(s.connection().isClosed());
            assertEquals(0, h.tick(burst).delivered());
            assertTrue(s.connection().isClosed());
        }
        assertEquals(1, h.listener.closedBy(CloseReason.SLOW_CONSUMER));
        assertEquals(burst, h.listener.droppedFor(DropReason.CONNECTION_CLOSED));
        ch.settle();
        assertEquals(1, ch.frames().size(), "nothing written after the close");
    }

    @Test
    void dropOldestPolicyKeepsTheStreamAndDropsItsOldestEvents() {
        TestHub.Stream s = smallOutbox(SlowConsumerPolicy.DROP_OLDEST, Completion.HOLD);
        FakeChannel ch = s.channel();

        int extra = 5;
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < QUEUE + extra; i++) {
            TestHub.Result r = h.tick(i);
            assertEquals(1, r.delivered(), "the new event is always queued");
            events.add(r.event());
        }
        assertFalse(s.connection().isClosed());
        assertEquals(QUEUE, s.connection().queued());
        assertEquals(extra, s.connection().eventsDropped());
        assertEquals(extra, h.listener.droppedFor(DropReason.SLOW_CONSUMER));

        ch.completion(Completion.SYNC);
        ch.release();
        ch.awaitEvent(events.get(events.size() - 1).idString());
        assertEquals(ids(events.subList(extra, events.size())), ch.eventIds(), "the newest " + QUEUE + ", in order");
        assertEquals(0, ch.aborts());
        assertEquals(0, h.listener.closedStreams());

        Event later = h.tick(100).event();
        ch.awaitEvent(later.idString());
        assertEquals(extra, s.connection().eventsDropped());
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(Completion.SYNC, new IOException("Connection reset by peer"), DeliveryError.CLIENT_GONE,
                        CloseReason.CLIENT),
                Arguments.of(Completion.ASYNC, new IOException("Broken pipe"), DeliveryError.CLIENT_GONE, CloseReason.CLIENT),
                Arguments.of(Completion.SYNC, new IllegalStateException("bug"), DeliveryError.UNEXPECTED,
                        CloseReason.WRITE_ERROR),
                Arguments.of(Completion.ASYNC, new IllegalStateException("bug"), DeliveryError.UNEXPECTED,
                        CloseReason.WRITE_ERROR));
    }

    @ParameterizedTest(name = "{1} completing {0}: {2}, closed {3}")
    @MethodSource("failures")
    void aFailedWriteIsClassifiedReportedAndClosesTheStream(Completion completion, Throwable failure,
            DeliveryError kind, CloseReason reason) {
        h = new TestHub();
        TestHub.Stream s = open(Completion.SYNC);
        FakeChannel ch = s.channel();
        ch.awaitFrames(1);
        ch.settle();

        ch.completion(completion);
        ch.failNext(failure);
        assertEquals(1, h.tick(1).delivered());
        // A client that left gets a clean end; after a fault of the service, the state of the connection
        // is unknown (and ending it cleanly may need what just failed): it is dropped.
        boolean clean = reason == CloseReason.CLIENT;
        FakeChannel.eventually("stream closed", () -> (clean ? ch.closes() : ch.aborts()) == 1);

        assertTrue(s.connection().isClosed());
        assertEquals(1, h.listener.errorsOf(kind));
        assertEquals(1, h.listener.deliveryErrors());
        assertEquals(1, h.listener.closedBy(reason));
        assertEquals(1, h.listener.closedStreams());
        assertEquals(clean ? 0 : 1, ch.aborts(), "dropped only after a fault of the service");
        assertEquals(0, h.hub.registry().size());
        assertEquals(0, h.listener.deliveredEvents(), "a failed write delivered nothing");
        assertEquals(0, s.connection().eventsSent());
        assertNull(s.connection().lastEventId(), "the client did not get the event: it must resume before it");
    }

    @Test
    void closeIsIdempotentAndEndsDelivery() {
        h = new TestHub();
        TestHub.Stream s = open(Completion.SYNC);
        FakeChannel ch = s.channel();
        ch.awaitFrames(1);

        s.connection().close(CloseReason.ADMIN);
        s.connection().close(CloseReason.ADMIN);
        s.connection().close(CloseReason.CLIENT);
        assertEquals(1, h.listener.closedStreams());
        assertEquals(1, h.listener.closedBy(CloseReason.ADMIN));
        assertEquals(1, ch.closes());
        assertEquals(0, ch.aborts());
        assertEquals(0, h.hub.registry().size());
        assertEquals(0, h.hub.registry().indexKeys());

        assertEquals(0, h.tick(1).delivered());
        ch.settle();
        assertEquals(1, ch.frames().size());
    }

    @Test
    void heartbeatsGoOnlyToIdleLiveStreams() {
        h = new TestHub();
        TestHub.Stream idle = open(Completion.SYNC);
        TestHub.Stream stalled = open(Completion.HOLD);
        idle.channel().awaitFrames(1);
        idle.channel().settle();
        stalled.channel().awaitHeld();

        assertEquals(1, h.hub.heartbeat());
        assertEquals(1, h.listener.heartbeatsQueued());
        idle.channel().awaitFrames(2);
        SseClient.Frame beat = idle.channel().frames().get(1);
        assertEquals("heartbeat", beat.event());
        assertNull(beat.id(), "a heartbeat must not move the browser's last event id");
        assertTrue(beat.data().matches("\\{\"ts\":\\d+}"), beat.data());
        assertEquals(1, stalled.channel().writeCount(), "nothing queued behind a pending write");
        assertEquals(0, stalled.connection().queued());
        assertEquals(0, h.listener.deliveredEvents(), "a heartbeat is not an event");
    }

    @Test
    void aWritePendingLongerThanTheClientTimeoutIsAborted() {
        h = new TestHub(new TestHub.Settings().clientTimeout(Duration.ofMillis(100)));
        TestHub.Stream stalled = open(Completion.HOLD);
        stalled.channel().awaitHeld();
        FakeChannel.eventually("stalled stream timed out", () -> {
            h.hub.heartbeat();
            return stalled.connection().isClosed();
        });
        assertEquals(1, h.listener.closedBy(CloseReason.TIMEOUT));
        assertEquals(1, stalled.channel().aborts());
        stalled.channel().settle();
        assertEquals(0, h.listener.deliveryErrors());
    }

    @Test
    void resumesAfterTheLastEventIdFromTheLogThenGoesLive() {
        h = new TestHub();
        List<Event> before = h.ticks(0, 10);
        TestHub.Stream s = open(Completion.HOLD, before.get(3).id());
        FakeChannel ch = s.channel();
        ch.awaitHeld();
        List<SseClient.Frame> first = ch.writes().get(0);
        assertEquals("connection_established", first.get(0).event());
        assertEquals(ids(before.subList(4, 10)), frameIds(first.subList(1, first.size())),
                "the replay follows the first frame, in the same write");
        assertTrue(s.connection().replaying());

        TestHub.Result duringReplay = h.tick(10);
        assertEquals(0, duringReplay.delivered(), "a replaying stream is not offered live events: it reads them from the log");

        ch.completion(Completion.SYNC);
        ch.release();
        FakeChannel.eventually("stream live", () -> !s.connection().replaying());
        TestHub.Result live = h.tick(11);
        assertEquals(1, live.delivered());
        ch.awaitEvent(live.event().idString());

        List<String> expected = new ArrayList<>(ids(before.subList(4, 10)));
        expected.add(duringReplay.event().idString());
        expected.add(live.event().idString());
        assertEquals(expected, ch.eventIds());
        assertFalse(ch.frames().stream().anyMatch(f -> "replay_truncated".equals(f.event())));
        FakeChannel.eventually("8 events counted", () -> h.listener.deliveredEvents() == 8);
        assertEquals(7, h.listener.replayedEvents());
        assertEquals(live.event().idString(), s.connection().lastEventId());
    }

    @Test
    void resumingFromAnEvictedIdIsToldWhatItMissed() throws Exception {
        h = new TestHub(new TestHub.Settings().replaySize(4));
        List<Event> before = h.ticks(0, 10);
        TestHub.Stream s = open(Completion.SYNC, before.get(2).id());
        FakeChannel ch = s.channel();
        ch.awaitEvent(before.get(9).idString());

        List<SseClient.Frame> frames = ch.frames();
        assertEquals("connection_established", frames.get(0).event());
        assertTruncated(frames.get(1), before.get(2), before.get(6));
        assertEquals(ids(before.subList(6, 10)), frameIds(frames.subList(2, frames.size())));
    }

    @Test
    void aReplayThatFallsBehindTheLogSaysSoAndReadsOnFromTheOldestEvent() throws Exception {
        int size = Replay.BATCH + 44;
        h = new TestHub(new TestHub.Settings().replaySize(size));
        List<Event> before = h.ticks(0, size);
        TestHub.Stream s = open(Completion.HOLD, before.get(0).id());
        FakeChannel ch = s.channel();
        ch.awaitHeld();
        List<SseClient.Frame> first = ch.writes().get(0);
        assertEquals(ids(before.subList(1, 1 + Replay.BATCH)), frameIds(first.subList(1, first.size())),
                "one replay batch per write");

        // While the client holds the first batch, a whole log's worth is published: the cursor's events go.
        List<Event> meanwhile = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            TestHub.Result r = h.tick(size + i);
            assertEquals(0, r.delivered());
            meanwhile.add(r.event());
        }
        ch.completion(Completion.SYNC);
        ch.release();
        ch.awaitEvent(meanwhile.get(size - 1).idString());

        List<SseClient.Frame> frames = ch.frames();
        List<SseClient.Frame> rest = frames.subList(1 + Replay.BATCH, frames.size());
        assertTruncated(rest.get(0), before.get(Replay.BATCH), meanwhile.get(0));
        assertEquals(ids(meanwhile), frameIds(rest.subList(1, rest.size())));

        FakeChannel.eventually("stream live", () -> !s.connection().replaying());
        assertEquals(1, h.tick(-1).delivered());
    }

    @Test
    void resumingBeforeAnEventTooLargeForTheReplayLogIsToldItMissedIt() throws Exception {
        h = new TestHub(new TestHub.Settings().replayMaxBytes(2000));
        Event before = h.tick(0).event();
        Event big = h.publish("tick", "\"" + "x".repeat(3000) + "\"", Target.BROADCAST).event();
        assertEquals(0, h.hub.replayBufferSize(), "the log could not keep the big event, nor the one before it");
        assertEquals(0, h.hub.replayBytes());

        TestHub.Stream missed = open(Completion.SYNC, before.id());
        FakeChannel.eventually("stream live", () -> !missed.connection().replaying());
        TestHub.Stream upToDate = open(Completion.SYNC, big.id());
        FakeChannel.eventually("stream live", () -> !upToDate.connection().replaying());
        Event live = h.tick(2).event();
        missed.channel().awaitEvent(live.idString());
        upToDate.channel().awaitEvent(live.idString());

        List<SseClient.Frame> frames = missed.channel().frames();
        assertEquals("connection_established", frames.get(0).event());
        assertEquals("replay_truncated", frames.get(1).event());
        JsonNode t = JSON.readTree(frames.get(1).data());
        assertEquals(before.idString(), t.get("requested").asText());
        assertTrue(t.get("oldest").isNull(), "the log holds nothing: " + t);
        assertEquals(List.of(live.idString()), missed.channel().eventIds());

        assertFalse(upToDate.channel().frames().stream().anyMatch(f -> "replay_truncated".equals(f.event())),
                "a client that had the big event missed nothing");
        assertEquals(List.of(live.idString()), upToDate.channel().eventIds());
    }

    /** A {@code replay_truncated} frame: no id, the last event the client had, the oldest one still held. */
    private static void assertTruncated(SseClient.Frame f, Event requested, Event oldest) throws Exception {
        assertEquals("replay_truncated", f.event());
        assertNull(f.id());
        JsonNode t = JSON.readTree(f.data());
        assertEquals(requested.idString(), t.get("requested").asText());
        assertEquals(oldest.idString(), t.get("oldest").asText());
    }
}
