package dev.ssehub.api;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ssehub.transport.ProblemJson;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** The one writer of {@code application/problem+json} bodies (RFC 9457): resources, the router and the transport. */
@Singleton
public class Problems implements ProblemJson {

    public static final String MEDIA_TYPE = "application/problem+json";
    static final String TYPE_PREFIX = "urn:ssehub:problem:";

    @RegisterForReflection
    public record Problem(String type, String title, int status, String detail) {
    }

    @Inject
    ObjectMapper mapper;

    @Override
    public byte[] encode(String slug, String title, int status, String detail) {
        return bytes(new Problem(TYPE_PREFIX + slug, title, status, detail));
    }

    byte[] bytes(Problem p) {
        try {
            return mapper.writeValueAsBytes(p);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The slug of a framework status's reason phrase ("Method Not Allowed" → method-not-allowed). */
    static String slug(String title) {
        return title.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    }
}
