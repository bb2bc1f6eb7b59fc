package dev.sluice.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately tiny HTTP/1.1 client over a plain socket, for what {@code java.net.http} cannot
 * do: choose the local address (to be client {@code 127.0.0.2} or {@code 127.0.0.3} on loopback)
 * and send exactly the bytes given, malformed requests included.
 *
 * <p>One request per connection; the response body is read by {@code Content-Length}, chunked
 * encoding, or until the server closes.
 */
public final class RawHttp {

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private RawHttp() {
    }

    /**
     * Sends {@code method target} with the given headers (plus {@code Host},
     * {@code Content-Length} when there is a body, and {@code Connection: close}).
     *
     * @param localAddress the address to connect from, or {@code null} for the kernel's choice
     */
    public static Response request(InetSocketAddress server, InetAddress localAddress, String method, String target,
                                   Map<String, String> headers, byte[] body) {
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        head.append("Host: ").append(server.getHostString()).append(':').append(server.getPort()).append("\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            bytes.writeBytes(body);
        }
        return send(server, localAddress, bytes.toByteArray(), method.equals("HEAD"), DEFAULT_TIMEOUT);
    }

    /** {@code GET target} from {@code localAddress} (nullable) with the given headers. */
    public static Response get(InetSocketAddress server, InetAddress localAddress, String target,
                               Map<String, String> headers) {
        return request(server, localAddress, "GET", target, headers, null);
    }

    /**
     * Sends raw request bytes and reads one response.
     *
     * @param headRequest whether the request was a HEAD (its response has no body)
     * @throws UncheckedIOException if the connection fails or the response is not HTTP/1.x
     */
    public static Response send(InetSocketAddress server, InetAddress localAddress, byte[] request,
                                boolean headRequest, Duration timeout) {
        try (Socket socket = new Socket()) {
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            socket.connect(server, (int) Math.min(timeout.toMillis(), 5000));
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            return read(new BufferedInputStream(socket.getInputStream()), headRequest);
        } catch (IOException e) {
            throw new UncheckedIOException("HTTP exchange with " + server + (localAddress == null ? ""
                    : " from " + localAddress.getHostAddress()) + " failed: " + e.getMessage(), e);
        }
    }

    private static Response read(InputStream in, boolean headRequest) throws IOException {
        String statusLine = line(in);
        if (statusLine == null || !statusLine.startsWith("HTTP/1.")) {
            throw new IOException("expected an HTTP/1.x status line, got " + statusLine);
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        String reason = parts.length > 2 ? parts[2] : "";
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed response header line: " + header);
            }
            headers.computeIfAbsent(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(header.substring(colon + 1).trim());
        }
        byte[] body;
        List<String> transferEncoding = headers.getOrDefault("transfer-encoding", List.of());
        List<String> contentLength = headers.getOrDefault("content-length", List.of());
        if (headRequest || status / 100 == 1 || status == 204 || status == 304) {
            body = new byte[0];
        } else if (!transferEncoding.isEmpty() && transferEncoding.get(transferEncoding.size() - 1)
                .toLowerCase(Locale.ROOT).endsWith("chunked")) {
            body = chunked(in);
        } else if (!contentLength.isEmpty()) {
            int length = Integer.parseInt(contentLength.get(0));
            body = in.readNBytes(length);
            if (body.length != length) {
                throw new IOException("connection closed after " + body.length + " of " + length + " body bytes");
            }
        } else {
            body = in.readAllBytes();
        }
        return new Response(status, reason, headers, body);
    }

    private static byte[] chunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line(in);
            if (sizeLine == null) {
                throw new IOException("connection closed inside a chunked body");
            }
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                for (String trailer = line(in); trailer != null && !trailer.isEmpty(); trailer = line(in)) {
                    // Trailers are not needed by any test.
                }
                return body.toByteArray();
            }
            byte[] chunk = in.readNBytes(size);
            if (chunk.length != size) {
                throw new IOException("connection closed inside a chunk");
            }
            body.writeBytes(chunk);
            line(in);
        }
    }

    /** Reads a CRLF-terminated line as ISO-8859-1; null at end of stream before any byte. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    /**
     * One HTTP response.
     *
     * @param headers header values by lower-case name, in arrival order
     */
    public record Response(int status, String reason, Map<String, List<String>> headers, byte[] body) {

        /** The first value of a header (any case), or {@code null}. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        /** All values of a header (any case). */
        public List<String> headers(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        /** The body as UTF-8 text. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
