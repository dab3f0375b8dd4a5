package dev.ssehub.transport;

import java.nio.ByteBuffer;

/**
 * Direct memory for shared chunks, cut from 256 KiB slabs: one allocation per slab instead of one per
 * event. A slab is freed by the garbage collector once no chunk cut from it is referenced. Chunks handed
 * out are never written again: every stream reads the same bytes.
 */
final class DirectSlab {

    private static final int SLAB_BYTES = 256 * 1024;
    private ByteBuffer slab;

    /** A read-only-by-convention direct copy of {@code src}'s remaining bytes. */
    synchronized ByteBuffer copy(ByteBuffer src) {
        int n = src.remaining();
        ByteBuffer out;
        if (n > SLAB_BYTES / 8) {
            out = ByteBuffer.allocateDirect(n);
        } else {
            if (slab == null || slab.remaining() < n) {
                slab = ByteBuffer.allocateDirect(SLAB_BYTES);
            }
            out = slab.slice();
            out.limit(n);
            slab.position(slab.position() + n);
        }
        out.put(src).flip();
        return out;
    }
}
