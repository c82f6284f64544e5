package io.licensebroker.broker.core;

/** Who a bearer token belongs to. */
public enum Role {
    /** An agent acting for one user of one account (API key). */
    AGENT,
    /** Administers one account. */
    ACCOUNT_ADMIN,
    /** Administers every account. */
    SUPER_ADMIN,
    /** Administers one organization and its subtree, within one account (CONTRACT.md section 6; see {@link Scope}). */
    ORGANIZATION_ADMIN
}
