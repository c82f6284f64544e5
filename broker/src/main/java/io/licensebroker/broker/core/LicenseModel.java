package io.licensebroker.broker.core;

/** How one license of a product is used (CONTRACT.md section 5). */
public enum LicenseModel {
    /** One live session (KRE): any user with an API key; the usage policy picks the pool. */
    SESSION,
    /** One seat held by a licensed user, bound to one machine until an admin deactivates it. */
    NODE_LOCKED,
    /** One seat held by a licensed user, used from one machine at a time as a lease. */
    FLOATING;

    /** Whether a license is a seat granted to a named user (not a session anyone may take). */
    public boolean isSeat() {
        return this != SESSION;
    }
}
