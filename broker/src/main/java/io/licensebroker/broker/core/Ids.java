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

    /**
     * The account a session id belongs to, or empty when the id is not one of ours. A store may
     * append its own ".suffix" to the ids it hands out (see {@link #sessionName}).
     */
    public static Optional<String> accountOfSession(String sessionId) {
        int dot = sessionId.indexOf('.');
        int end = dot + 1 + SESSION_RANDOM_CHARS;
        if (dot <= 0 || sessionId.length() < end || (sessionId.length() > end && sessionId.charAt(end) != '.')) {
            return Optional.empty();
        }
        return Optional.of(sessionId.substring(0, dot));
    }

    /** The "account.random" part of a session id, without any suffix a store added; the id itself otherwise. */
    public static String sessionName(String sessionId) {
        int dot = sessionId.indexOf('.');
        int end = dot + 1 + SESSION_RANDOM_CHARS;
        return dot > 0 && sessionId.length() > end && sessionId.charAt(end) == '.' ? sessionId.substring(0, end) : sessionId;
    }
}
