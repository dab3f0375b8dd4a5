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

    public ApiException(int status, String slug, String title, String detail, Integer retryAfterSeconds) {
        super(detail, null, false, false);
        this.status = status;
        this.slug = slug;
        this.title = title;
        this.retryAfterSeconds = retryAfterSeconds;
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
}
