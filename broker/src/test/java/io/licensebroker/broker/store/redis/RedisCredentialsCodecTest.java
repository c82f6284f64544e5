package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The text form of a credential in the Redis credentials hash: every role round-trips, and records from before org admins decode. */
final class RedisCredentialsCodecTest {

    @ParameterizedTest
    @EnumSource(Role.class)
    void everyRoleRoundTrips(Role role) {
        Credential c = new Credential("lk", new byte[] {1, 2}, new byte[] {3, 4, 5}, role,
                role == Role.SUPER_ADMIN ? null : "acme|with a bar", role == Role.AGENT ? "alice" : null,
                role == Role.ORGANIZATION_ADMIN ? "OG-12" : null);

        Credential back = RedisCredentials.decode("lk", RedisCredentials.encode(c));

        assertEquals(c.role(), back.role());
        assertEquals(c.accountId(), back.accountId());
        assertEquals(c.userId(), back.userId());
        assertEquals(c.orgId(), back.orgId());
        assertArrayEquals(c.salt(), back.salt());
        assertArrayEquals(c.secretHash(), back.secretHash());
    }

    /** Five fields, as written before ORGANIZATION_ADMIN existed: still an account admin of its account, with no organization. */
    @Test
    void aRecordWithoutAnOrganizationDecodes() {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String old = "ACCOUNT_ADMIN|" + b64.encodeToString("acme".getBytes()) + "|~|" + b64.encodeToString(new byte[] {7})
                + '|' + b64.encodeToString(new byte[] {8, 9});

        Credential back = RedisCredentials.decode("lk", old);

        assertEquals(Role.ACCOUNT_ADMIN, back.role());
        assertEquals("acme", back.accountId());
        assertNull(back.userId());
        assertNull(back.orgId());
        assertArrayEquals(new byte[] {8, 9}, back.secretHash());
        assertEquals(old, RedisCredentials.encode(back), "a credential without an organization keeps the five-field form");
    }

    @Test
    void aRecordOfAnotherShapeIsRefused() {
        assertThrows(IllegalStateException.class, () -> RedisCredentials.decode("lk", "ACCOUNT_ADMIN|~|~|AQ"));
    }
}
