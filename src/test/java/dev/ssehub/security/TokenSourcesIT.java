package dev.ssehub.security;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * {@link TokenSourcesTest} against the packaged application: the jar in {@code ./mvnw verify}, the native
 * executable with {@code -Dnative}; authentication on through the same test profile and test keys.
 */
@QuarkusIntegrationTest
class TokenSourcesIT extends TokenSourcesTest {
}
