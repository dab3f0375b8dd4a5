package dev.ssehub.security;

/** A request without a usable token (401). The message never contains the token or its claims. */
public final class AuthRefused extends RuntimeException {

    /** Why; the HTTP layer turns each into a 401 problem with {@code WWW-Authenticate: Bearer}. */
    public enum Reason {
        /** No token in the header, the {@code access_token} parameter or the cookie. */
        MISSING,
        /** Malformed, badly signed, another issuer or audience, or unusable claims. */
        INVALID,
        /** Past its {@code exp}. */
        EXPIRED
    }

    private final Reason reason;

    AuthRefused(Reason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
