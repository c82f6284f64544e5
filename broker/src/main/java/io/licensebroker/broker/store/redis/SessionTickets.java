package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Session;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * The ids the Redis store hands out carry a ticket: {@code <name>.<mac>.<product>.<machine>}, where
 * the name is the core's "account.random" (the key Redis files the session under) and the MAC
 * (HMAC-SHA256 with the account's session key, kept in Redis, cut to 128 bits) covers the name, the
 * user, the product and the machine. If Redis loses a session, its agent's next renew still proves
 * what the broker granted: during a learning period the session is re-admitted from its ticket.
 * Nothing else trusts the ticket; renew, release and terminate look the session up by its name.
 */
final class SessionTickets {
    private static final int MAC_BYTES = 16;
    private static final int MAC_CHARS = 22; // base64url of 16 bytes, no padding
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    /** What a ticket claims; {@code name} is the session's key in Redis. */
    record Ticket(String name, String mac, String product, String machineId) {
    }

    private SessionTickets() {
    }

    /**
     * An account's key, ready to use: an HMAC set up with the key once, cloned per use (setting up
     * a key costs more than the MAC of an id).
     */
    static final class AccountKey {
        private final Mac prototype;

        AccountKey(byte[] key) {
            try {
                prototype = Mac.getInstance("HmacSHA256");
                prototype.init(new SecretKeySpec(key, "HmacSHA256"));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 with a key of any length is part of every JDK", e);
            }
        }

        Mac mac() {
            try {
                return (Mac) prototype.clone();
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException("the JDK's HmacSHA256 can be cloned", e);
            }
        }
    }

    /** The id an agent gets for {@code session} (whose id is its name). */
    static String id(AccountKey accountKey, Session session) {
        return session.id() + '.' + mac(accountKey, session.id(), session.userId(), session.product(), session.machineId())
                + '.' + session.product() + '.' + session.machineId();
    }

    /** {@code session} as agents see it: with its ticketed id. */
    static Session present(AccountKey accountKey, Session session) {
        return session.withId(id(accountKey, session));
    }

    /** The ticket of {@code sessionId}, or empty when it has none or a malformed one. */
    static Optional<Ticket> parse(String sessionId) {
        String name = Ids.sessionName(sessionId);
        int macStart = name.length() + 1;
        int productStart = macStart + MAC_CHARS + 1;
        if (name.length() == sessionId.length() || sessionId.length() <= productStart
                || sessionId.charAt(productStart - 1) != '.') {
            return Optional.empty();
        }
        int productEnd = sessionId.indexOf('.', productStart);
        if (productEnd <= productStart || productEnd == sessionId.length() - 1) {
            return Optional.empty();
        }
        return Optional.of(new Ticket(name, sessionId.substring(macStart, macStart + MAC_CHARS),
                sessionId.substring(productStart, productEnd), sessionId.substring(productEnd + 1)));
    }

    /** Whether the broker issued {@code ticket} to {@code userId}; compared in constant time. */
    static boolean verify(AccountKey accountKey, Ticket ticket, String userId) {
        byte[] expected = mac(accountKey, ticket.name(), userId, ticket.product(), ticket.machineId())
                .getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, ticket.mac().getBytes(StandardCharsets.US_ASCII));
    }

    private static String mac(AccountKey accountKey, String name, String userId, String product, String machineId) {
        Mac mac = accountKey.mac();
        // Newlines cannot occur in any of the fields (the edge allows none), so the input is unambiguous.
        byte[] out = mac.doFinal((name + '\n' + userId + '\n' + product + '\n' + machineId).getBytes(StandardCharsets.UTF_8));
        return ENCODER.encodeToString(Arrays.copyOf(out, MAC_BYTES));
    }
}
