package io.licensebroker.broker.core;

import java.util.Objects;

/** An account's usage policy and whether exhausted org pools may fall back to the account pool. */
public record PolicySettings(UsagePolicy policy, boolean allowFallback) {
    /** What "Restore default" sets. */
    public static final PolicySettings DEFAULT = new PolicySettings(UsagePolicy.UNRESTRICTED, true);

    public PolicySettings {
        Objects.requireNonNull(policy, "policy");
    }
}
