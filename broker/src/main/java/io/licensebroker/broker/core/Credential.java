package io.licensebroker.broker.core;

import java.util.Objects;

/**
 * A stored bearer credential (admin token or API key): only a salted hash of its secret is kept.
 * {@code lookupId} is the public part of the token that finds this record; {@code accountId} is
 * null for SUPER_ADMIN, {@code userId} is set only for AGENT keys.
 */
public record Credential(String lookupId, byte[] salt, byte[] secretHash, Role role, String accountId, String userId) {
    public Credential {
        Objects.requireNonNull(lookupId, "lookupId");
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(secretHash, "secretHash");
        Objects.requireNonNull(role, "role");
        salt = salt.clone();
        secretHash = secretHash.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] secretHash() {
        return secretHash.clone();
    }
}
