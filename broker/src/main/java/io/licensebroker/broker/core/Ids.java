package io.licensebroker.broker.core;

import java.security.SecureRandom;
import java.util.Optional;

/**
 * Generated identifiers. Session ids carry their account ("account.random") so any node can route
 * a renew to the account that owns it without a lookup.
 */
public final class Ids {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final int SESSION_RANDOM_CHARS = 26; // 130 bits

    private Ids() {
    }

    public static String random(SecureRandom random, int chars) {
        byte[] bytes = new byte[chars];
        random.nextBytes(bytes);
        char[] out = new char[chars];
        for (int i = 0; i < chars; i++) {
            out[i] = ALPHABET[bytes[i] & 31];
        }
        return new String(out);
    }

    public static String newSessionId(String accountId, SecureRandom random) {
        return accountId + '.' + random(random, SESSION_RANDOM_CHARS);
    }

    /** The account a session id belongs to, or empty when the id is not one of ours. */
    public static Optional<String> accountOfSession(String sessionId) {
        int dot = sessionId.lastIndexOf('.');
        if (dot <= 0 || sessionId.length() - dot - 1 != SESSION_RANDOM_CHARS) {
            return Optional.empty();
        }
        return Optional.of(sessionId.substring(0, dot));
    }
}
