package dev.ssehub.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The test profile with authentication on, verified with the fixed RS256 test key (see {@link Tokens}). */
public class AuthOn implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Tokens.authOn();
    }
}
