package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Role;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The Redis form of credentials, as the global credential hash keeps them.
 */
final class Codec {
    private static final String NULL = "~";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private Codec() {
    }

    /** "role|account|user|salt|hash", each text field base64url ("~" for null). */
    static String encode(Credential c) {
        return c.role().name() + '|' + text(c.accountId()) + '|' + text(c.userId()) + '|'
                + B64.encodeToString(c.salt()) + '|' + B64.encodeToString(c.secretHash());
    }

    static Credential credential(String lookupId, String encoded) {
        String[] f = encoded.split("\\|", -1);
        if (f.length != 5) {
            throw new IllegalStateException("malformed stored credential " + lookupId);
        }
        return new Credential(lookupId, B64D.decode(f[3]), B64D.decode(f[4]), Role.valueOf(f[0]), untext(f[1]), untext(f[2]));
    }

    private static String text(String s) {
        return s == null ? NULL : B64.encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String untext(String s) {
        return NULL.equals(s) ? null : new String(B64D.decode(s), StandardCharsets.UTF_8);
    }
}
