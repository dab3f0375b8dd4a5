package dev.ssehub.security;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * {@link AuthRefusalTest} against the packaged application: the jar in {@code ./mvnw verify}, the native
 * executable with {@code -Dnative}; authentication on through the same test profile and test keys.
 */
@QuarkusIntegrationTest
class AuthRefusalIT extends AuthRefusalTest {
}
