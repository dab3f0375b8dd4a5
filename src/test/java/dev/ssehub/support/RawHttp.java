package dev.ssehub.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.x client on a plain socket, for what the JDK client hides: an HTTP/1.0 request, the chunks of
 * a response as they are on the wire, and the exact bytes of the next response on a kept-alive connection.
 * Loopback only; every read times out after 10 s.
 */
public final class RawHttp implements AutoCloseable {

    /** A response's status line and headers (names in lower case). */
    public record Head(String statusLine, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static RawHttp connect() {
        try {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), Api.port());
            s.setSoTimeout(10_000);
            return new RawHttp(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a request head: the request line, {@code Host}, the given header lines, and the blank line. */
    public void send(String requestLine, String... headers) {
        StringBuilder sb = new StringBuilder(requestLine).append("\r\nHost: 127.0.0.1\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        sb.append("\r\n");
        try {
            out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Head readHead() {
        String status = readLine();
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        return new Head(status, headers);
    }

    /**
     * The data of the next chunk of a chunked body, checking its framing (hex length, CRLF, data, CRLF);
     * null for the last chunk (after which the connection is ready for the next response).
     */
    public byte[] readChunk() {
        String sizeLine = readLine();
        int size;
        try {
            size = Integer.parseInt(sizeLine, 16);
        } catch (NumberFormatException e) {
            throw new AssertionError("not a chunk size line: \"" + sizeLine + "\"");
        }
        if (size == 0) {
            String trailer = readLine();
            if (!trailer.isEmpty()) {
                throw new AssertionError("unexpected trailer after the last chunk: \"" + trailer + "\"");
            }
            return null;
        }
        byte[] data = readBytes(size);
        String end = readLine();
        if (!end.isEmpty()) {
            throw new AssertionError("chunk of " + size + " bytes not followed by CRLF but \"" + end + "\"");
        }
        return data;
    }

    /** The rest of the connection's bytes, as they arrive (an unchunked body). */
    public InputStream body() {
        return in;
    }

    /** Exactly n bytes. */
    public byte[] readBytes(int n) {
        try {
            byte[] b = in.readNBytes(n);
            if (b.length < n) {
                throw new EOFException("connection closed after " + b.length + " of " + n + " bytes");
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A line ended by CRLF, without it; a bare LF inside is kept (it is not HTTP framing). */
    private String readLine() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new EOFException("connection closed; line so far: \"" + line + "\"");
                }
                if (b == '\n' && line.size() > 0 && line.toByteArray()[line.size() - 1] == '\r') {
                    return new String(line.toByteArray(), 0, line.size() - 1, StandardCharsets.UTF_8);
                }
                line.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Drops the connection with a TCP reset (SO_LINGER 0): the client vanishes without a goodbye. */
    public void reset() {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        close();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
