package io.licensebroker.broker.core;

import java.time.Instant;

/**
 * A usage history query (CONTRACT.md section 7): one product, one pool or (null) every pool, the
 * steps starting in {@code [from, to)}, each {@code step} long. {@link #check} holds its rules.
 */
public record HistoryQuery(String product, String poolId, Instant from, Instant to, HistoryStep step) {

    /** At most this many points per series: a longer range needs a longer step. */
    public static final int MAX_POINTS = 10_000;

    /** The query, or INVALID_ARGUMENT naming the field that is missing or wrong. */
    public Decision<HistoryQuery> check() {
        Decision<HistoryQuery> range = checkRange(product, from, to, this);
        if (!range.isGranted()) {
            return range;
        }
        if (step == null) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "step must be one minute, one hour or one day", "step");
        }
        long points = (step.startOf(to.toEpochMilli() - 1) - step.startOf(from.toEpochMilli())) / step.millis() + 1;
        if (points > MAX_POINTS) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "the range holds " + points + " steps of " + step.length()
                    + ", more than " + MAX_POINTS + ": choose a longer step or a shorter range", "step");
        }
        return Decision.granted(this);
    }

    /** The rules a history query and a denial report share: a product, and a start before the end. */
    static <T> Decision<T> checkRange(String product, Instant from, Instant to, T query) {
        if (product == null || product.isEmpty()) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "product is required", "product");
        }
        if (from == null) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "start_time is required", "start_time");
        }
        if (to == null) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "end_time is required", "end_time");
        }
        if (!from.isBefore(to)) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "end_time " + to + " must be after start_time " + from, "end_time");
        }
        return Decision.granted(query);
    }
}
