package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.UsageSeries;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;

/** The usage history questions the differential tests ask every store, and their answers in the reference's pool ids. */
final class HistoryAnswers {
    static final Instant RUN_START = Instant.parse("2030-01-01T00:00:00Z");
    private static final Comparator<DenialRow> REPORT_ORDER = Comparator.comparingLong(DenialRow::count).reversed()
            .thenComparing(DenialRow::poolId).thenComparing(DenialRow::userId).thenComparing(DenialRow::reason);

    private HistoryAnswers() {
    }

    /** Every pool of {@code product} since the run started, at {@code step}. */
    static HistoryQuery wholeRun(String product, HistoryStep step, Instant now) {
        return new HistoryQuery(product, null, RUN_START, now.plus(step.length()), step);
    }

    static DenialQuery deniedInRun(String product, Instant now) {
        return new DenialQuery(product, null, RUN_START, now.plusSeconds(3600));
    }

    /**
     * A history answer with its pool ids mapped by {@code org}; a denial report re-sorted (rows of
     * equal count are ordered by pool id, which differ from store to store). Null for other values.
     */
    static Object normalized(Object v, UnaryOperator<String> org) {
        if (v instanceof UsageSeries u) {
            return new UsageSeries(org.apply(u.poolId()), u.points());
        }
        if (v instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(DenialRow.class::isInstance)) {
            return list.stream().map(DenialRow.class::cast)
                    .map(r -> new DenialRow(org.apply(r.poolId()), r.userId(), r.reason(), r.count(), r.lastDenied()))
                    .sorted(REPORT_ORDER).toList();
        }
        return null;
    }
}
