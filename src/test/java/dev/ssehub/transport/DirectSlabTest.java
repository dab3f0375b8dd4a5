package dev.ssehub.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.netty.util.internal.PlatformDependent;

/**
 * {@link DirectSlab}: copies are exact, small ones are cut one after another from shared 256 KiB slabs
 * (one allocation for many events) without ever overlapping, larger ones get memory of their own; and a
 * request the direct-memory budget cannot take fails at once with an {@link OutOfMemoryError} of the
 * slab's own, not in the JDK's reservation loop. The budget follows the JVM's direct-memory limit, which
 * cannot change inside a running JVM, so the refusal is checked in a child JVM started with a small
 * {@code -XX:MaxDirectMemorySize}.
 */
class DirectSlabTest {

    private static final int SLAB = 256 * 1024;
    private static final int MIB = 1024 * 1024;

    private static ByteBuffer source(int n, Random random) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 100, SLAB / 8, SLAB / 8 + 1, SLAB, 300_000 })
    void aCopyIsExactlyTheSourcesRemainingBytes(int n) {
        Random random = new Random(n);
        ByteBuffer src = source(n + 10, random);
        src.position(4).limit(4 + n); // only what remains is copied
        byte[] expected = bytes(src);
        ByteBuffer copy = new DirectSlab().copy(src);
        assertTrue(copy.isDirect());
        assertEquals(0, copy.position());
        assertEquals(n, copy.remaining());
        assertArrayEquals(expected, bytes(copy));
    }

    @Test
    void smallCopiesAreCutOneAfterAnotherFromSharedSlabsAndNeverOverlap() {
        assumeTrue(PlatformDependent.hasUnsafe(), "needs Netty's access to direct buffer addresses");
        DirectSlab slab = new DirectSlab();
        Random random = new Random(11);
        List<ByteBuffer> copies = new ArrayList<>();
        List<byte[]> expected = new ArrayList<>();
        long previousEnd = -1;
        int slabUsed = SLAB; // no slab yet: the first small copy starts one
        int slabs = 0;
        int adjacent = 0;
        for (int i = 0; i < 3000; i++) {
            // Mostly event-sized copies; now and then one too large for a slab, which must not use slab space.
            int n = i % 100 == 99 ? SLAB / 8 + 1 + random.nextInt(SLAB) : 1 + random.nextInt(600);
            ByteBuffer src = source(n, random);
            expected.add(bytes(src));
            ByteBuffer copy = slab.copy(src);
            copies.add(copy);
            if (n > SLAB / 8) {
                continue;
            }
            long address = PlatformDependent.directBufferAddress(copy);
            if (slabUsed + n > SLAB) {
                slabs++;
                slabUsed = 0;
            } else {
                assertEquals(previousEnd, address, "copy " + i + " follows the previous small copy in its slab");
                adjacent++;
            }
            slabUsed += n;
            previousEnd = address + n;
        }
        assertTrue(slabs >= 2 && slabs < 10, slabs + " slabs");
        assertTrue(adjacent > 2900, adjacent + " copies shared a slab with the one before");
        for (int i = 0; i < copies.size(); i++) {
            assertArrayEquals(expected.get(i), bytes(copies.get(i)), "copy " + i + " after all the others");
        }
    }

    @Test
    void aRequestOverTheBudgetFailsAtOnceWithTheSlabsOwnError(@TempDir Path dir) throws Exception {
        // A 24 MiB limit: Netty keeps half of it (less than 32 MiB: half, not 16 MiB), the budget is 12 MiB.
        long max = 24L * MIB;
        long budget = 12L * MIB;
        Path out = dir.resolve("child.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=24m", "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                Exhaust.class.getName()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(ended, "the child JVM did not end:\n" + text);
        assertEquals(0, p.exitValue(), text);
        assertFalse(text.contains("Cannot reserve"), "no allocation reached the JDK's own failure:\n" + text);

        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("max " + max), "the child runs with the small limit:\n" + text);
        // Copies of their own, until the next one would take the memory in use past the budget.
        int ok = 0;
        String refused = null;
        for (String line : lines) {
            if (line.startsWith("big ok ")) {
                long used = Long.parseLong(line.substring("big ok ".length()));
                assertTrue(used + Exhaust.BIG <= budget, "allowed within the budget: " + line);
                ok++;
            } else if (line.startsWith("big refused ")) {
                refused = line;
            }
        }
        assertTrue(ok >= 8, "refused too early:\n" + text);
        assertRefusal(refused, Exhaust.BIG, budget, text);
        assertTrue(lines.contains("small-after ok"), "a refusal spoils nothing: a small copy still fits its slab\n"
                + text);
        assertRefusal(lines.stream().filter(l -> l.startsWith("huge refused ")).findFirst().orElse(null),
                Exhaust.HUGE, budget, text);
        // Small copies go on until a new slab would be needed: that slab is refused the same way.
        assertRefusal(lines.stream().filter(l -> l.startsWith("slab refused ")).findFirst().orElse(null),
                SLAB, budget, text);
        assertTrue(lines.contains("done"), text);
    }

    private static final Pattern REFUSAL = Pattern.compile(
            "Direct memory for shared chunks exhausted: (\\d+) bytes in use, (\\d+) more requested, budget (\\d+) .*");

    /** The slab's own error, for a request that would have taken the memory in use past the budget. */
    private static void assertRefusal(String line, long requested, long budget, String text) {
        assertNotNull(line, "no such refusal:\n" + text);
        Matcher m = REFUSAL.matcher(line.substring(line.indexOf("refused ") + "refused ".length()));
        assertTrue(m.matches(), "the slab's own OutOfMemoryError: " + line);
        long used = Long.parseLong(m.group(1));
        assertEquals(requested, Long.parseLong(m.group(2)), line);
        assertEquals(budget, Long.parseLong(m.group(3)), line);
        assertTrue(used + requested > budget, "refused only past the budget: " + line);
    }

    /** The child JVM: one {@link DirectSlab}, exhausted step by step; reports each step on a line. */
    static final class Exhaust {

        /** Not a divisor of the budget: the refusal comes well clear of the small buffers the JVM itself holds. */
        static final int BIG = 1_150_000;
        /** More than the whole budget. */
        static final int HUGE = 16 * MIB;

        public static void main(String[] args) {
            BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
            System.out.println("max " + PlatformDependent.maxDirectMemory());
            DirectSlab slab = new DirectSlab();
            List<ByteBuffer> kept = new ArrayList<>(); // referenced, so nothing is freed behind the budget's back
            kept.add(slab.copy(ByteBuffer.allocate(100))); // the first slab
            for (int i = 0; i < 100; i++) {
                long used = direct.getMemoryUsed();
                try {
                    kept.add(slab.copy(ByteBuffer.allocate(BIG)));
                    System.out.println("big ok " + used);
                } catch (OutOfMemoryError e) {
                    System.out.println("big refused " + e.getMessage());
                    break;
                }
            }
            kept.add(slab.copy(ByteBuffer.allocate(100)));
            System.out.println("small-after ok");
            try {
                kept.add(slab.copy(ByteBuffer.allocate(HUGE)));
                System.out.println("huge ok");
            } catch (OutOfMemoryError e) {
                System.out.println("huge refused " + e.getMessage());
            }
            for (int i = 0; i < 1000; i++) {
                try {
                    kept.add(slab.copy(ByteBuffer.allocate(SLAB / 8)));
                } catch (OutOfMemoryError e) {
                    System.out.println("slab refused " + e.getMessage());
                    break;
                }
            }
            System.out.println("done");
        }
    }
}
