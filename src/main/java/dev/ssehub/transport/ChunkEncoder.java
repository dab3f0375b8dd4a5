package dev.ssehub.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import dev.ssehub.hub.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * HTTP/1.1 chunked transfer coding (RFC 9112, section 7.1) for frames that bypass the HTTP encoder: the
 * length in lower-case hex, CRLF, the bytes, CRLF. No String and no copy of a frame per stream.
 */
final class ChunkEncoder {

    private static final byte[] CRLF = { '\r', '\n' };
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** Length digits (at most 8 hex digits for an int) plus two CRLFs. */
    private static final int OVERHEAD = 12;
    private static final DirectSlab SLAB = new DirectSlab();

    /**
     * A frame as one chunk in direct memory, built the first time any stream writes the frame and then
     * shared by every stream through {@link Frame#encoded}. Never modified once built.
     */
    static final Function<Frame, ByteBuffer> SHARED = frame -> {
        ByteBuf chunk = Unpooled.buffer(frame.length() + OVERHEAD);
        write(chunk, List.of(frame), frame.length());
        return SLAB.copy(chunk.nioBuffer());
    };

    private ChunkEncoder() {
    }

    /** The frames' shared chunks as one buffer for the pipeline, without a copy. */
    static ByteBuf wrap(List<Frame> frames) {
        if (frames.size() == 1) {
            return Unpooled.wrappedBuffer(frames.get(0).encoded(SHARED).duplicate());
        }
        ByteBuffer[] chunks = new ByteBuffer[frames.size()];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = frames.get(i).encoded(SHARED).duplicate();
        }
        return Unpooled.wrappedBuffer(chunks.length, chunks);
    }

    /**
     * The frames' bytes without the chunk framing, as views of their shared chunks: what the Vert.x
     * response writes (it frames them itself), so no write of any path copies a frame on the heap or
     * has Netty copy it into direct memory of the stream's own.
     */
    static ByteBuf bodies(List<Frame> frames) {
        if (frames.size() == 1) {
            return Unpooled.wrappedBuffer(body(frames.get(0)));
        }
        ByteBuffer[] parts = new ByteBuffer[frames.size()];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = body(frames.get(i));
        }
        return Unpooled.wrappedBuffer(parts.length, parts);
    }

    private static ByteBuffer body(Frame frame) {
        ByteBuffer chunk = frame.encoded(SHARED).duplicate();
        int end = chunk.limit() - CRLF.length;
        chunk.limit(end).position(end - frame.length());
        return chunk;
    }

    /** What a partial write of the first {@code n} chunks left: the bytes after the first {@code written}. */
    static ByteBuf remainder(ByteBuffer[] chunks, int n, long written) {
        ByteBuffer[] rest = new ByteBuffer[n];
        int k = 0;
        long skip = written;
        for (int i = 0; i < n; i++) {
            ByteBuffer c = chunks[i].duplicate();
            if (skip >= c.remaining()) {
                skip -= c.remaining();
                continue;
            }
            c.position(c.position() + (int) skip);
            skip = 0;
            rest[k++] = c;
        }
        return Unpooled.wrappedBuffer(k, Arrays.copyOf(rest, k));
    }

    /** Writes the frames ({@code length} bytes in all) as one chunk. */
    static void write(ByteBuf buf, List<Frame> frames, int length) {
        int shift = (31 - Integer.numberOfLeadingZeros(length | 1)) / 4 * 4;
        for (; shift >= 0; shift -= 4) {
            buf.writeByte(HEX[(length >>> shift) & 0xf]);
        }
        buf.writeBytes(CRLF);
        for (int i = 0; i < frames.size(); i++) {
            buf.writeBytes(frames.get(i).bytes());
        }
        buf.writeBytes(CRLF);
    }
}
