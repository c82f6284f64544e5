package io.licensebroker.broker.core;

/** Which organization pools a user may draw from (see {@link AcquirePlan}). */
public enum UsagePolicy {
    /** Assigned org, then project orgs, then any other org with available licenses. */
    UNRESTRICTED,
    /** Assigned org, then project orgs. */
    MEMBER_BASED,
    /** Assigned org only. */
    STRICT
}
