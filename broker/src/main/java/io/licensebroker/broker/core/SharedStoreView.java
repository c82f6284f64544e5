package io.licensebroker.broker.core;

import io.licensebroker.broker.core.AcquirePlan.AnyOrganizationStep;
import io.licensebroker.broker.core.AcquirePlan.PoolStep;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a shared store asks of an account's configuration to decide with the core: the pools and
 * their sizes, the organization tree, registrations and offline licenses, the candidates of an
 * acquire; and {@link #observe}, which tells the configuration what the store counted so that the
 * ledger's own rules decide from those counts. Reads only, apart from {@code observe}.
 */
final class SharedStoreView {
    private final AccountConfiguration config;

    SharedStoreView(AccountConfiguration config) {
        this.config = config;
    }

    void observe(String product, Map<String, Long> inUseByPool, long registeredMachines, Set<String> registeredAmongAsked) {
        PoolBook book = config.book(product);
        for (String id : poolIds()) {
            PoolBook.Pool p = config.pool(book, id);
            // The store counts live sessions; seats are part of the configuration.
            p.inUse = inUseByPool.getOrDefault(id, 0L) + p.seats;
            book.touch(p);
        }
        book.observeMachines(registeredMachines, registeredAmongAsked);
    }

    List<String> poolIds() {
        List<String> out = new ArrayList<>(config.orgs.size() + 1);
        out.add(config.accountId);
        out.addAll(config.orgs.ids());
        return out;
    }

    Map<String, Long> poolSizes(String product) {
        PoolBook book = config.bookOrNull(product);
        Map<String, Long> out = new LinkedHashMap<>();
        for (String id : poolIds()) {
            PoolBook.Pool p = book == null ? null : book.pools.get(id);
            out.put(id, p == null ? 0L : p.pool());
        }
        return out;
    }

    String parentPoolId(String orgId) {
        return config.orgs.parentKey(config.orgs.get(orgId));
    }

    boolean isRegistered(String product, String machineId) {
        PoolBook book = config.bookOrNull(product);
        return book != null && book.isRegistered(machineId);
    }

    OfflineLicense liveOfflineLicense(String product, String machineId, Instant now) {
        PoolBook book = config.bookOrNull(product);
        OfflineLicense license = book == null ? null : book.offlineOf(machineId);
        return license != null && license.isLiveAt(now) ? license : null;
    }

    AcquireCandidates acquireCandidates(String product, String userId) {
        PoolBook book = config.bookOrNull(product);
        String accountId = config.accountId;
        if (book == null || book.subscription == null) {
            return AcquireCandidates.refused(null, Refusals.noSubscription(accountId, product));
        }
        Subscription sub = book.subscription;
        if (sub.model().isSeat()) {
            return AcquireCandidates.refused(sub, Refusals.sessionOnSeatProduct(product, sub.model()));
        }
        User user = config.user(userId);
        if (user == null) {
            return AcquireCandidates.refused(sub, Refusals.unknownAgentUser(accountId, userId));
        }
        AcquirePlan plan = AcquirePlan.resolve(accountId, config.policy, user);
        List<AcquireCandidates.Candidate> out = new ArrayList<>();
        Set<String> listed = new LinkedHashSet<>();
        for (AcquirePlan.Step step : plan.steps()) {
            if (step instanceof PoolStep ps) {
                PoolBook.Pool p = book.pools.get(ps.poolId());
                if (p != null && listed.add(p.id)) {
                    boolean root = p == book.root;
                    // The account pool's offline licenses are counted by the store at its own "now".
                    long size = root ? p.pool() + book.offline.size() : p.pool();
                    if (size > 0) {
                        out.add(new AcquireCandidates.Candidate(p.id, size, ps.fallback(), root));
                    }
                }
            } else if (step instanceof AnyOrganizationStep) {
                // Every organization that could have room, in creation order (pools of size 0 never do).
                for (String id : config.orgs.ids()) {
                    PoolBook.Pool p = book.pools.get(id);
                    if (p != null && p.pool() > 0 && listed.add(id)) {
                        out.add(new AcquireCandidates.Candidate(id, p.pool(), false, false));
                    }
                }
            }
        }
        List<Instant> offlineEnds = book.offline.values().stream().map(OfflineLicense::expiresAt).toList();
        return new AcquireCandidates(out, plan.exhaustedReason(), sub, offlineEnds, null);
    }
}
