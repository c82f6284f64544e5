package io.licensebroker.broker.core;

import java.util.List;

/**
 * Which refusals the usage history counts as denials: those that refused a license, a seat or an
 * activation for want of one (capacity, quota, expiry, a missing or busy seat), not malformed or
 * misdirected requests. Denials of a product the account has no subscription for are not counted:
 * an agent could name products without end.
 */
public final class HistoryRules {
    /** The counted reasons; {@link #index} numbers them in this order. */
    public static final List<Reason> COUNTED = List.of(
            Reason.NO_LICENSE_AVAILABLE,
            Reason.ORGANIZATION_POOL_EXHAUSTED,
            Reason.INSUFFICIENT_LICENSES,
            Reason.MACHINE_QUOTA_EXCEEDED,
            Reason.SUBSCRIPTION_EXPIRED,
            Reason.NOT_LICENSED,
            Reason.SEAT_IN_USE,
            Reason.STORE_RECOVERING);

    private static final int[] INDEX = new int[Reason.values().length];

    static {
        java.util.Arrays.fill(INDEX, -1);
        for (int i = 0; i < COUNTED.size(); i++) {
            INDEX[COUNTED.get(i).ordinal()] = i;
        }
    }

    private HistoryRules() {
    }

    public static boolean counts(Reason reason) {
        return INDEX[reason.ordinal()] >= 0;
    }

    /** The reason's place in {@link #COUNTED}, or -1 when it is not counted. */
    public static int index(Reason reason) {
        return INDEX[reason.ordinal()];
    }
}
