package io.licensebroker.broker.core;

import java.util.Objects;

/** Who is calling: resolved from the bearer token. {@code accountId} is null for SUPER_ADMIN. */
public record Principal(Role role, String accountId, String userId) {
    public Principal {
        Objects.requireNonNull(role, "role");
        if (role != Role.SUPER_ADMIN) {
            Objects.requireNonNull(accountId, "accountId");
        }
        if (role == Role.AGENT) {
            Objects.requireNonNull(userId, "userId");
        }
    }

    public boolean isAdmin() {
        return role != Role.AGENT;
    }

    /** SUPER_ADMIN everywhere; ACCOUNT_ADMIN in its own account only. */
    public boolean canAdminister(String account) {
        return role == Role.SUPER_ADMIN || (role == Role.ACCOUNT_ADMIN && accountId.equals(account));
    }
}
