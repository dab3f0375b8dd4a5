package dev.ssehub.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.backplane.MemoryBackplane;
import dev.ssehub.hub.HubSettings.HeartbeatMode;
import dev.ssehub.hub.HubSettings.SlowConsumerPolicy;

/**
 * A {@link Hub} built by hand, as the CDI container would build it but without booting Quarkus: the
 * memory backplane, a {@link RecordingListener}, and streams on {@link FakeChannel}s, whose loops
 * {@link #close} stops.
 */
final class TestHub implements AutoCloseable {

    static final Duration RETRY = Duration.ofMillis(3000);
    static final Duration HEARTBEAT = Duration.ofSeconds(15);

    /** The settings a test may vary; everything else has a fixed test value. */
    static final class Settings {
        /** Large: only the slow-consumer tests, which set a small one, should ever fill an outbox. */
        int queueSize = 100_000;
        long queueBytes = 1L << 30;
        long queueTotalBytes = 1L << 32;
        long maxBatchBytes = 16L << 20;
        long replayMaxBytes = 1L << 30;
        SlowConsumerPolicy policy = SlowConsumerPolicy.DISCONNECT;
        int replaySize = 1000;
        Duration replayMaxAge = Duration.ofHours(1);
        Duration clientTimeout = Duration.ofSeconds(30);
        int maxClients = 100;
        int maxPerUser = 10;

        Settings queueSize(int n) {
            queueSize = n;
            return this;
        }

        Settings policy(SlowConsumerPolicy p) {
            policy = p;
            return this;
        }

        Settings queueBytes(long n) {
            queueBytes = n;
            return this;
        }

        Settings queueTotalBytes(long n) {
            queueTotalBytes = n;
            return this;
        }

        Settings maxBatchBytes(long n) {
            maxBatchBytes = n;
            return this;
        }

        Settings replayMaxBytes(long n) {
            replayMaxBytes = n;
            return this;
        }

        Settings replaySize(int n) {
            replaySize = n;
            return this;
        }

        Settings clientTimeout(Duration d) {
            clientTimeout = d;
            return this;
        }

        HubSettings build() {
            return new HubSettings(RETRY, HEARTBEAT, HeartbeatMode.EVENT, clientTimeout, maxClients, maxPerUser,
                    queueSize, queueBytes, queueTotalBytes, maxBatchBytes, policy, replaySize, replayMaxBytes, replayMaxAge);
        }
    }

    /** An open stream and the channel under it. */
    record Stream(Connection connection, FakeChannel channel) {
    }

    final Hub hub;
    final RecordingListener listener = new RecordingListener();
    private final List<FakeChannel> channels = new ArrayList<>();

    TestHub() {
        this(new Settings());
    }

    TestHub(Settings settings) {
        HubSettings built = settings.build();
        backplane = new Recording(new MemoryBackplane(built.replaySize(), built.replayMaxAge()));
        hub = new Hub(built, new ConnectionRegistry(), backplane, listener, new ObjectMapper());
        hub.start();
    }

    /** A publish's outcome, with the event the backplane delivered (or the earlier one, for a repeated key). */
    record Result(Event event, int delivered, boolean duplicate) {
    }

    private final Recording backplane;

    /** The memory backplane, remembering every event it delivered, by id. */
    static final class Recording implements Backplane {
        private final MemoryBackplane inner;
        private final java.util.Map<EventId, Event> events = new java.util.concurrent.ConcurrentHashMap<>();

        Recording(MemoryBackplane inner) {
            this.inner = inner;
        }

        @Override
        public void start(Receiver receiver) {
            inner.start(new Receiver() {
                @Override
                public int deliver(Event event) {
                    events.put(event.id(), event);
                    return receiver.deliver(event);
                }

                @Override
                public void history(Event event) {
                    receiver.history(event);
                }

                @Override
                public void restart(EventId historyStart) {
                    receiver.restart(historyStart);
                }
            });
        }

        @Override
        public java.util.concurrent.CompletionStage<List<Published>> publish(List<Event.Draft> drafts) {
            return inner.publish(drafts);
        }

        @Override
        public boolean isUp() {
            return inner.isUp();
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public String status() {
            return inner.status();
        }

        @Override
        public void stop() {
            inner.stop();
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> reset() {
            return inner.reset();
        }
    }

    /** Opens a stream for {@code userId} on all topics given, all types, resuming after {@code lastEventId} if not null. */
    Stream open(FakeChannel channel, String userId, EventId lastEventId, String... topics) {
        return open(channel, new Hub.StreamRequest(userId, null, Set.of(topics), Set.of(), lastEventId, "127.0.0.1",
                "unit-test"));
    }

    Stream open(FakeChannel channel, Hub.StreamRequest request) {
        synchronized (channels) {
            channels.add(channel);
        }
        try {
            return new Stream(hub.open(request, channel), channel);
        } catch (Hub.RejectedException e) {
            throw new AssertionError("stream refused: " + e.reason(), e);
        }
    }

    /** A stream for {@code userId} on topic {@code news} whose first write its client has not taken: it is behind. */
    Stream behind(String userId) {
        Stream s = open(new FakeChannel(FakeChannel.Completion.HOLD), userId, null, "news");
        s.channel().awaitHeld();
        return s;
    }

    /**
     * A stream for {@code userId} on topic {@code news} whose first write completed and whose loop is idle:
     * it is not behind (hold its loop with {@link FakeChannel#pause} to keep it so while publishing).
     */
    Stream keepingUp(String userId) {
        Stream s = open(new FakeChannel(FakeChannel.Completion.SYNC), userId, null, "news");
        s.channel().awaitFrames(1);
        s.channel().settle();
        return s;
    }

    Result publish(String type, String dataJson, Target target) {
        Backplane.Published p = hub.publish(List.of(new Event.Draft(type, dataJson, target, null)))
                .toCompletableFuture().join().get(0);
        return new Result(backplane.events.get(p.id()), p.delivered(), p.duplicate());
    }

    /** Broadcasts {@code {"n":i}} of type {@code tick}. */
    Result tick(int i) {
        return publish("tick", "{\"n\":" + i + "}", Target.BROADCAST);
    }

    /** Broadcasts {@code n} ticks numbered from {@code from}; returns the events. */
    List<Event> ticks(int from, int n) {
        List<Event> out = new ArrayList<>(n);
        for (int i = from; i < from + n; i++) {
            out.add(tick(i).event());
        }
        return out;
    }

    /** Checks every channel kept the transport contract, and stops their loops. */
    @Override
    public void close() {
        hub.stop();
        List<FakeChannel> all;
        synchronized (channels) {
            all = new ArrayList<>(channels);
        }
        all.forEach(FakeChannel::shutdown);
        all.forEach(FakeChannel::assertContractKept);
    }
}
