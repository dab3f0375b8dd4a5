package dev.ssehub.transport;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;

import io.netty.util.internal.PlatformDependent;

/**
 * Direct memory for shared chunks, cut from 256 KiB slabs: one allocation per slab instead of one per
 * event. A slab is freed by the garbage collector once no chunk cut from it is referenced. Chunks handed
 * out are never written again: every stream reads the same bytes.
 *
 * <p>An allocation the JVM's direct-memory limit would refuse fails here at once, with an
 * {@link OutOfMemoryError} the stream's write reports, instead of entering the JDK's reservation
 * loop, which collects garbage and sleeps for up to about half a second before giving up: on an event
 * loop, that would stall every stream of the loop. Part of the limit is left for Netty's own buffers
 * (request bodies, response heads, TLS): an eighth of it, and at least 16 MiB or half of a smaller limit.
 */
final class DirectSlab {

    private static final int SLAB_BYTES = 256 * 1024;
    /** Read at the first allocation, at run time (a native image must not keep the build machine's figures). */
    private BufferPoolMXBean direct;
    private long budget = -1;
    private ByteBuffer slab;

    /** A read-only-by-convention direct copy of {@code src}'s remaining bytes. */
    synchronized ByteBuffer copy(ByteBuffer src) {
        int n = src.remaining();
        ByteBuffer out;
        if (n > SLAB_BYTES / 8) {
            out = allocate(n);
        } else {
            if (slab == null || slab.remaining() < n) {
                slab = allocate(SLAB_BYTES);
            }
            out = slab.slice();
            out.limit(n);
            slab.position(slab.position() + n);
        }
        out.put(src).flip();
        return out;
    }

    private ByteBuffer allocate(int n) {
        if (budget < 0) {
            direct = directPool();
            long max = PlatformDependent.maxDirectMemory();
            budget = max - Math.max(max / 8, Math.min(max / 2, 16L * 1024 * 1024));
        }
        if (direct != null && direct.getMemoryUsed() + n > budget) {
            throw new OutOfMemoryError("Direct memory for shared chunks exhausted: " + direct.getMemoryUsed()
                    + " bytes in use, " + n + " more requested, budget " + budget
                    + " (-XX:MaxDirectMemorySize less a reserve for Netty's own buffers)");
        }
        return ByteBuffer.allocateDirect(n);
    }

    private static BufferPoolMXBean directPool() {
        try {
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if (pool.getName().equals("direct")) {
                    return pool;
                }
            }
        } catch (RuntimeException | LinkageError e) {
            // No management beans (some native images): allocations are then only bounded by the JVM.
        }
        return null;
    }
}
