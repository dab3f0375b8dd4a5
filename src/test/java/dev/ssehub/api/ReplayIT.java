package dev.ssehub.api;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * {@link ReplayTest} against the packaged application: the jar in {@code ./mvnw verify}, the native
 * executable with {@code -Dnative}. It runs with the test profile (quarkus.test.integration-test-profile).
 */
@QuarkusIntegrationTest
class ReplayIT extends ReplayTest {
}
