package dev.ssehub.api;

/**
 * An error answered as {@code application/problem+json} (RFC 9457) with {@code type}, {@code title},
 * {@code status} and {@code detail}; 429 and 503 also carry {@code Retry-After}.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String slug;
    private final String title;
    private final Integer retryAfterSeconds;
    private final String challenge;

    public ApiException(int status, String slug, String title, String detail, Integer retryAfterSeconds) {
        this(status, slug, title, detail, retryAfterSeconds, null);
    }

    private ApiException(int status, String slug, String title, String detail, Integer retryAfterSeconds,
            String challenge) {
        super(detail, null, false, false);
        this.status = status;
        this.slug = slug;
        this.title = title;
        this.retryAfterSeconds = retryAfterSeconds;
        this.challenge = challenge;
    }

    /**
     * 401 with {@code WWW-Authenticate: Bearer} (RFC 6750 §3: {@code error="invalid_token"} when a token was
     * sent but is not usable).
     */
    public static ApiException unauthorized(String detail, boolean tokenSent) {
        return new ApiException(401, "unauthorized", "Unauthorized", detail, null,
                tokenSent ? "Bearer error=\"invalid_token\"" : "Bearer");
    }

    /** 403: a valid token that does not allow this (a role, another user's stream, a topic). */
    public static ApiException forbidden(String detail) {
        return new ApiException(403, "forbidden", "Forbidden", detail, null, null);
    }

    public static ApiException badRequest(String detail) {
        return new ApiException(400, "invalid-request", "Invalid request", detail, null);
    }

    public static ApiException notFound(String detail) {
        return new ApiException(404, "not-found", "Not found", detail, null);
    }

    public int status() {
        return status;
    }

    public String type() {
        return "urn:ssehub:problem:" + slug;
    }

    public String title() {
        return title;
    }

    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The {@code WWW-Authenticate} value of a 401, else null. */
    public String challenge() {
        return challenge;
    }
}
