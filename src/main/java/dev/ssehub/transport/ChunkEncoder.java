package dev.ssehub.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

import dev.ssehub.hub.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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

    /** Several frames as one chunk in a new direct buffer of this stream's own (released by whoever writes it). */
    static ByteBuf batch(ByteBufAllocator alloc, List<Frame> frames) {
        int total = 0;
        for (int i = 0; i < frames.size(); i++) {
            total += frames.get(i).length();
        }
        ByteBuf buf = alloc.directBuffer(total + OVERHEAD);
        write(buf, frames, total);
        return buf;
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
