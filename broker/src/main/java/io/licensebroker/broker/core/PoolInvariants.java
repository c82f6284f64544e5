package io.licensebroker.broker.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants of an account's pools, checked from its configuration and its live sessions
 * (see {@link AccountLedger#invariantViolations}): what the model tests assert after every step.
 */
final class PoolInvariants {
    private PoolInvariants() {
    }

    /** See {@link AccountLedger#invariantViolations}; {@code counted} is live sessions per "product/pool". */
    static void check(AccountConfiguration config, Map<String, Long> counted, List<String> out) {
        config.books().forEach((product, book) -> {
            Map<String, Long> seatsByPool = new HashMap<>();
            book.seats.values().forEach(seat -> seatsByPool.merge(seat.poolId(), 1L, Long::sum));
            if (book.leaseOfUser.size() > book.seats.size()) {
                out.add(product + ": " + book.leaseOfUser.size() + " floating activations for " + book.seats.size() + " seats");
            }
            check(config.orgs, product, book, counted, seatsByPool, out);
        });
    }

    private static void check(OrgTree orgs, String product, PoolBook book, Map<String, Long> counted, Map<String, Long> seatsByPool, List<String> out) {
        book.pools.values().forEach(p -> {
            String where = product + "/" + p.id;
            if (p.inUse < 0 || p.inUse > p.pool()) {
                out.add(where + ": in_use " + p.inUse + " outside 0.." + p.pool());
            }
            if (p.allocated > p.dedicated || p.allocated < 0) {
                out.add(where + ": allocated " + p.allocated + " > dedicated " + p.dedicated);
            }
            long childSum = 0;
            for (String child : orgs.children(p.id)) {
                PoolBook.Pool c = book.pools.get(child);
                childSum += c == null ? 0 : c.dedicated;
            }
            if (childSum != p.allocated) {
                out.add(where + ": allocated " + p.allocated + " != children's dedicated " + childSum);
            }
            // On a seat product the sessions are floating activations: their seats are what counts.
            long sessionsHere = book.model().isSeat() ? 0 : counted.getOrDefault(where, 0L);
            long seatsHere = seatsByPool.getOrDefault(p.id, 0L);
            if (p.seats != seatsHere) {
                out.add(where + ": seats " + p.seats + " != seats held " + seatsHere);
            }
            if (sessionsHere + seatsHere != p.inUse) {
                out.add(where + ": in_use " + p.inUse + " != live sessions " + sessionsHere + " + seats " + seatsHere);
            }
            if (p.ordinal >= 0 && (p.available() > 0) != book.roomyOrgs.containsKey(p.ordinal)) {
                out.add(where + ": room index out of date");
            }
        });
    }
}
