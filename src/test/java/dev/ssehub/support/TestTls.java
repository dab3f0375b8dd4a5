package dev.ssehub.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed server certificate for tests that turn TLS on, made with the running JDK's keytool
 * under {@code target/test-tls} (nothing secret is committed), and a client {@link SSLContext} that
 * trusts exactly that certificate. The certificate names 127.0.0.1 and localhost, so the JDK client's
 * host name check passes as it would for a real server.
 */
public final class TestTls {

    public static final String PASSWORD = "test-only-password";
    private static final Path KEY_STORE = Path.of("target", "test-tls", "server.p12").toAbsolutePath();
    private static final String ALIAS = "sse-hub-test";

    private TestTls() {
    }

    /**
     * The PKCS#12 key store of the server, made when missing or about to expire. Called from a test
     * profile (possibly more than once, from different class loaders), so it reuses a valid file.
     */
    public static synchronized Path keyStore() {
        try {
            if (!Files.exists(KEY_STORE) || !validForAnotherDay()) {
                generate();
            }
            return KEY_STORE;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read " + KEY_STORE, e);
        }
    }

    /** TLS for a client that trusts the test certificate and nothing else. */
    public static SSLContext clientContext() {
        try {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry(ALIAS, certificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate certificate() throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore())) {
            ks.load(in, PASSWORD.toCharArray());
        }
        return (X509Certificate) ks.getCertificate(ALIAS);
    }

    private static boolean validForAnotherDay() throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(KEY_STORE)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        X509Certificate cert = (X509Certificate) ks.getCertificate(ALIAS);
        return cert != null && cert.getNotAfter().after(Date.from(Instant.now().plus(Duration.ofDays(1))));
    }

    private static void generate() throws IOException {
        Files.createDirectories(KEY_STORE.getParent());
        Path tmp = Files.createTempFile(KEY_STORE.getParent(), "server", ".p12");
        Files.delete(tmp); // keytool refuses to add to an empty file that is not a key store
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> cmd = List.of(keytool.toString(), "-genkeypair", "-alias", ALIAS, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1,DNS:localhost",
                "-validity", "30", "-storetype", "PKCS12", "-keystore", tmp.toString(), "-storepass", PASSWORD);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output;
        try (InputStream out = p.getInputStream()) {
            output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("keytool failed: " + cmd + "\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for keytool", e);
        }
        Files.move(tmp, KEY_STORE, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
