package dev.ssehub.transport;

/**
 * How the API writes an {@code application/problem+json} body; the transport uses it for the refusals it
 * answers itself (a header timeout) and for those the HTTP layer answered without a body.
 */
public interface ProblemJson {

    /** The body of a problem of type {@code urn:ssehub:problem:<slug>}, UTF-8. */
    byte[] encode(String slug, String title, int status, String detail);
}
