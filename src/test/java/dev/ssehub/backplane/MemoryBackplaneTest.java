package dev.ssehub.backplane;

import java.time.Duration;

import dev.ssehub.hub.Backplane;

/**
 * The backplane contract on {@link MemoryBackplane}: each instance is its own process (no cluster), always
 * up. The outage and data-loss tests do not apply and say so (skipped).
 */
class MemoryBackplaneTest extends BackplaneContractTest {

    @Override
    protected Backplane newInstance(int historySize, Duration keyWindow) {
        return new MemoryBackplane(historySize, keyWindow);
    }

    @Override
    protected boolean clustered() {
        return false;
    }

    @Override
    protected boolean stopServer() {
        return false;
    }

    @Override
    protected void startServer(boolean keepData) {
        throw new IllegalStateException("the memory backplane has no server");
    }
}
