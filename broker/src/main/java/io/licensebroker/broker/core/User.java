package io.licensebroker.broker.core;

import java.util.List;
import java.util.Objects;

/**
 * A user of an account. {@code assignedOrgId} may be null (the user then draws from
 * the account pool); {@code projectOrgIds} are the orgs where the user is a project member.
 */
public record User(String accountId, String userId, String assignedOrgId, List<String> projectOrgIds) {
    public User {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(userId, "userId");
        projectOrgIds = List.copyOf(projectOrgIds);
    }
}
