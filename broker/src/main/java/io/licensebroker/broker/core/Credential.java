package io.licensebroker.broker.core;

import java.util.Objects;

/**
 * A stored bearer credential (admin token or API key): only a salted hash of its secret is kept.
 * {@code lookupId} is the public part of the token that finds this record; {@code accountId} is
 * null for SUPER_ADMIN, {@code userId} is set only for AGENT keys, {@code orgId} exactly for
 * ORGANIZATION_ADMIN tokens.
 */
public record Credential(String lookupId, byte[] salt, byte[] secretHash, Role role, String accountId, String userId,
                         String orgId) {
    public Credential {
        Objects.requireNonNull(lookupId, "lookupId");
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(secretHash, "secretHash");
        Objects.requireNonNull(role, "role");
        if ((role == Role.ORGANIZATION_ADMIN) != (orgId != null)) {
            throw new IllegalArgumentException("orgId is set exactly for ORGANIZATION_ADMIN, not for " + role);
        }
        if (role == Role.ORGANIZATION_ADMIN) {
            Objects.requireNonNull(accountId, "accountId");
        }
        salt = salt.clone();
        secretHash = secretHash.clone();
    }

    /** Any role but ORGANIZATION_ADMIN. */
    public Credential(String lookupId, byte[] salt, byte[] secretHash, Role role, String accountId, String userId) {
        this(lookupId, salt, secretHash, role, accountId, userId, null);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] secretHash() {
        return secretHash.clone();
    }

    /** Who holds it. */
    public Principal principal() {
        return new Principal(role, accountId, userId, orgId);
    }
}
