package io.licensebroker.broker.core;

import java.util.Objects;

/** A node of an account's organization tree. {@code parentId} is null for a top-level organization. */
public record Organization(String id, String accountId, String parentId, String name) {
    public Organization {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(name, "name");
    }

    public boolean isTopLevel() {
        return parentId == null;
    }
}
