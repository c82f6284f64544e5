package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.PoolRow;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The contract's invariant, checked from the outside on one {@link LicenseUsage} snapshot (so it
 * works for every store): on every row {@code 0 <= in_use <= pool}, {@code allocated <= dedicated}
 * where allocated is the sum of the children's dedicated, {@code pool == dedicated - allocated};
 * the account row's dedicated is the subscription's licenses minus live offline licenses.
 */
public final class UsageInvariants {
    private UsageInvariants() {
    }

    public static List<String> violations(LicenseUsage usage) {
        List<String> out = new ArrayList<>();
        if (usage.rows().isEmpty()) {
            out.add("no rows at all");
            return out;
        }
        PoolRow account = usage.rows().get(0);
        if (!account.poolId().equals(usage.accountId()) || account.parentId() != null) {
            out.add("first row is not the account row: " + account);
        }
        Map<String, Long> allocated = new HashMap<>();
        Set<String> ids = new HashSet<>();
        for (PoolRow r : usage.rows()) {
            if (!ids.add(r.poolId())) {
                out.add("duplicate row " + r.poolId());
            }
            if (r.parentId() != null) {
                if (!ids.contains(r.parentId())) {
                    out.add(r.poolId() + ": parent " + r.parentId() + " is not listed before it");
                }
                allocated.merge(r.parentId(), r.dedicated(), Long::sum);
            }
        }
        for (PoolRow r : usage.rows()) {
            long alloc = allocated.getOrDefault(r.poolId(), 0L);
            if (r.dedicated() < 0) {
                out.add(r.poolId() + ": dedicated " + r.dedicated() + " < 0");
            }
            if (alloc > r.dedicated()) {
                out.add(r.poolId() + ": allocated " + alloc + " > dedicated " + r.dedicated());
            }
            if (r.pool() != r.dedicated() - alloc) {
                out.add(r.poolId() + ": pool " + r.pool() + " != dedicated " + r.dedicated() + " - allocated " + alloc);
            }
            if (r.inUse() < 0 || r.inUse() > r.pool()) {
                out.add(r.poolId() + ": in_use " + r.inUse() + " outside 0.." + r.pool());
            }
            if (r.available() != r.pool() - r.inUse()) {
                out.add(r.poolId() + ": available " + r.available() + " != pool - in_use");
            }
        }
        // A seat product's offline licenses bind seats, which count in in_use: they take no license of their own.
        long offlineTaken = usage.subscription() != null && usage.subscription().model().isSeat() ? 0 : usage.offlineLicenses();
        if (usage.subscription() != null && account.dedicated() != usage.licenses() - offlineTaken) {
            out.add("account dedicated " + account.dedicated() + " != licenses " + usage.licenses()
                    + " - offline " + offlineTaken);
        }
        return out;
    }

    public static long totalInUse(LicenseUsage usage) {
        long sum = 0;
        for (PoolRow r : usage.rows()) {
            sum += r.inUse();
        }
        return sum;
    }
}
