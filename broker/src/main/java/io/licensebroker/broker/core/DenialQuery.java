package io.licensebroker.broker.core;

import java.time.Instant;

/**
 * A denial report query: who was denied a license of {@code product} in one pool or (null) every
 * pool, in {@code [from, to)}, rounded out to the report's resolution ({@link DenialReport#step}).
 */
public record DenialQuery(String product, String poolId, Instant from, Instant to) {

    /** The query, or INVALID_ARGUMENT naming the field that is missing or wrong. */
    public Decision<DenialQuery> check() {
        return HistoryQuery.checkRange(product, from, to, this);
    }
}
