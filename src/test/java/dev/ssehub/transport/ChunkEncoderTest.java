package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.ssehub.hub.Frame;
import io.netty.buffer.ByteBuf;

/**
 * {@link ChunkEncoder}: a frame's shared chunk is exactly {@code <hex length>\r\n<frame>\r\n}; the views a
 * write hands on ({@link ChunkEncoder#wrap} for the raw paths, {@link ChunkEncoder#bodies} for the Vert.x
 * response) hold exactly the chunks or the frames' bytes, read the shared chunk in place, and leave its
 * position and limit alone (every stream reads the same chunk); what a partial write left
 * ({@link ChunkEncoder#remainder}) is the rest of the bytes, wherever the write stopped.
 */
class ChunkEncoderTest {

    private static final Random RANDOM = new Random(7);

    /** A frame of {@code n} arbitrary bytes (the encoder must not care what they are). */
    private static Frame frame(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return new Frame(b);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** The remaining bytes of a buffer, read through a duplicate (the buffer itself is left as it is). */
    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    /** The readable bytes of a view, read without moving its reader index. */
    private static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }

    private static byte[] chunk(Frame f) {
        return concat(ascii(Integer.toHexString(f.length()) + "\r\n"), f.bytes(), ascii("\r\n"));
    }

    /** The frame's shared chunk is whole: position 0, limit its full length. */
    private static void assertUntouched(Frame f) {
        ByteBuffer shared = f.encoded(ChunkEncoder.SHARED);
        assertEquals(0, shared.position(), "position of the shared chunk");
        assertEquals(chunk(f).length, shared.limit(), "limit of the shared chunk");
        assertArrayEquals(chunk(f), bytes(shared));
    }

    @ParameterizedTest(name = "{0} bytes: {1}")
    @CsvSource({ "1, 1", "15, f", "16, 10", "255, ff", "256, 100", "4096, 1000", "65535, ffff", "65536, 10000",
            "1048576, 100000" })
    void aSharedChunkIsTheLowerCaseHexLengthCrlfTheFrameCrlf(int length, String hex) {
        Frame f = frame(length);
        ByteBuffer chunk = f.encoded(ChunkEncoder.SHARED);
        assertTrue(chunk.isDirect(), "in direct memory, so sockets take it without a copy");
        assertEquals(0, chunk.position());
        assertArrayEquals(concat(ascii(hex + "\r\n"), f.bytes(), ascii("\r\n")), bytes(chunk));
        assertSame(chunk, f.encoded(ChunkEncoder.SHARED), "built once, then shared");
    }

    @Test
    void wrapHoldsTheSharedChunksInPlaceAndLeavesThemAsTheyAre() {
        // 40,000 bytes is above the size cut from shared slabs: its chunk is an allocation of its own.
        List<Frame> frames = List.of(frame(5), frame(300), frame(40_000));
        Frame one = frame(77);

        ByteBuf single = ChunkEncoder.wrap(List.of(one));
        assertArrayEquals(chunk(one), bytes(single));
        ByteBuf several = ChunkEncoder.wrap(frames);
        assertArrayEquals(concat(chunk(frames.get(0)), chunk(frames.get(1)), chunk(frames.get(2))), bytes(several));

        // Netty reads the views to the end as it writes them, then releases them.
        single.skipBytes(single.readableBytes());
        several.skipBytes(several.readableBytes());
        assertTrue(single.release());
        assertTrue(several.release());
        assertUntouched(one);
        frames.forEach(ChunkEncoderTest::assertUntouched);

        // Released views freed nothing: the next stream's write reads the same bytes.
        ByteBuf again = ChunkEncoder.wrap(frames);
        assertArrayEquals(concat(chunk(frames.get(0)), chunk(frames.get(1)), chunk(frames.get(2))), bytes(again));
        assertViewOf(frames.get(2), again, again.readableBytes() - chunk(frames.get(2)).length);
        again.release();
    }

    @Test
    void bodiesHoldExactlyTheFramesBytesInPlaceAndLeaveTheChunksAsTheyAre() {
        List<Frame> frames = List.of(frame(5), frame(300), frame(40_000));
        Frame one = frame(77);
        one.encoded(ChunkEncoder.SHARED);
        frames.forEach(f -> f.encoded(ChunkEncoder.SHARED));

        ByteBuf single = ChunkEncoder.bodies(List.of(one));
        assertArrayEquals(one.bytes(), bytes(single));
        ByteBuf several = ChunkEncoder.bodies(frames);
        assertArrayEquals(concat(frames.get(0).bytes(), frames.get(1).bytes(), frames.get(2).bytes()), bytes(several));
        single.skipBytes(single.readableBytes());
        several.skipBytes(several.readableBytes());
        single.release();
        several.release();
        assertUntouched(one);
        frames.forEach(ChunkEncoderTest::assertUntouched);

        ByteBuf view = ChunkEncoder.bodies(frames);
        // The body of the second frame starts after the first frame and the second chunk's "12c\r\n".
        int secondBody = frames.get(0).length();
        assertViewOf(frames.get(1), view, secondBody - "12c\r\n".length());
        view.release();
    }

    /**
     * The view reads the frame's shared chunk itself, not a copy: a byte changed in the chunk (this test's
     * own frame, which no stream shares) shows through the view at {@code at}, where the chunk starts.
     */
    private static void assertViewOf(Frame f, ByteBuf view, int at) {
        ByteBuffer shared = f.encoded(ChunkEncoder.SHARED);
        int i = shared.limit() - 3; // the frame's last byte
        byte was = shared.get(i);
        shared.put(i, (byte) ~was);
        try {
            assertEquals((byte) ~was, view.getByte(view.readerIndex() + at + i), "the view reads the shared chunk");
        } finally {
            shared.put(i, was);
        }
    }

    @Test
    void theRemainderOfAPartialWriteIsTheRestOfTheBytesWhereverItStopped() {
        Frame a = frame(3);
        Frame b = frame(70);
        Frame c = frame(20);
        byte[] all = concat(chunk(a), chunk(b), chunk(c));
        // As the socket path passes them: its scratch array, longer than this write, may hold another chunk.
        ByteBuffer[] chunks = { a.encoded(ChunkEncoder.SHARED), b.encoded(ChunkEncoder.SHARED),
                c.encoded(ChunkEncoder.SHARED), frame(9).encoded(ChunkEncoder.SHARED), null };
        for (int written = 0; written <= all.length; written++) {
            ByteBuf rest = ChunkEncoder.remainder(chunks, 3, written);
            assertArrayEquals(Arrays.copyOfRange(all, written, all.length), bytes(rest), "after " + written + " bytes");
            rest.skipBytes(rest.readableBytes());
            rest.release();
            for (Frame f : List.of(a, b, c)) {
                assertUntouched(f);
            }
        }
    }
}
