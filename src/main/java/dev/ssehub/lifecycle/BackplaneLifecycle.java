package dev.ssehub.lifecycle;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Shutdown;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;

import dev.ssehub.hub.Hub;

/**
 * Connects the hub to its backplane at start-up, after the configuration was checked, so the replay log
 * holds the backplane's history before the first stream is served; disconnects it at shutdown.
 */
@Singleton
public class BackplaneLifecycle {

    void start(@Observes @Priority(Interceptor.Priority.APPLICATION + 1000) Startup event, Hub hub) {
        hub.start();
    }

    void stop(@Observes Shutdown event, Hub hub) {
        hub.stop();
    }
}
