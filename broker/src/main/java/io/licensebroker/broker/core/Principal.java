package io.licensebroker.broker.core;

import java.util.Objects;

/**
 * Who is calling: resolved from the bearer token. {@code accountId} is null for SUPER_ADMIN;
 * {@code userId} is set for AGENT only; {@code orgId} is set exactly for ORGANIZATION_ADMIN (the
 * root of the subtree it administers, in {@code accountId}).
 */
public record Principal(Role role, String accountId, String userId, String orgId) {
    public Principal {
        Objects.requireNonNull(role, "role");
        if (role != Role.SUPER_ADMIN) {
            Objects.requireNonNull(accountId, "accountId");
        }
        if (role == Role.AGENT) {
            Objects.requireNonNull(userId, "userId");
        }
        if ((role == Role.ORGANIZATION_ADMIN) != (orgId != null)) {
            throw new IllegalArgumentException("orgId is set exactly for ORGANIZATION_ADMIN, not for " + role);
        }
    }

    /** Any role but ORGANIZATION_ADMIN. */
    public Principal(Role role, String accountId, String userId) {
        this(role, accountId, userId, null);
    }

    public boolean isAdmin() {
        return role != Role.AGENT;
    }

    public boolean isOrganizationAdmin() {
        return role == Role.ORGANIZATION_ADMIN;
    }

    /**
     * SUPER_ADMIN everywhere; ACCOUNT_ADMIN in its own account only. Never an ORGANIZATION_ADMIN:
     * it holds a part of an account only, so every check that knows no {@link Scope} refuses it.
     */
    public boolean canAdminister(String account) {
        return role == Role.SUPER_ADMIN || (role == Role.ACCOUNT_ADMIN && accountId.equals(account));
    }
}
