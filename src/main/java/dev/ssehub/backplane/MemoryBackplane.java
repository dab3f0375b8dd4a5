package dev.ssehub.backplane;

import java.time.Instant;
import java.util.function.ToIntFunction;

import jakarta.enterprise.context.ApplicationScoped;

import dev.ssehub.hub.Backplane;
import dev.ssehub.hub.Event;
import dev.ssehub.hub.EventId;

/** This process only: ids from the local clock, delivery by direct call. The embedded default. */
@ApplicationScoped
public class MemoryBackplane implements Backplane {

    private final EventId.Generator ids = new EventId.Generator();
    private volatile ToIntFunction<Event> receiver;

    @Override
    public void start(ToIntFunction<Event> receiver) {
        this.receiver = receiver;
    }

    @Override
    public Published publish(Event.Draft draft) {
        long now = System.currentTimeMillis();
        Event event = new Event(ids.next(now), draft, Instant.ofEpochMilli(now), System.nanoTime());
        return new Published(event, receiver.applyAsInt(event));
    }

    @Override
    public boolean isUp() {
        return true;
    }

    @Override
    public String name() {
        return "memory";
    }
}
