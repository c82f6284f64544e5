package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An acquire decided by the core for a store that counts sessions itself (a shared store, where
 * the counts change under every node): the pools the user's {@link AcquirePlan} may take, in
 * order, each with its size. The store takes, atomically, the first pool whose live sessions are
 * fewer than its size, registers the machine if the machine quota allows, and starts the session;
 * it decides nothing else.
 *
 * @param pools           the candidates in plan order (pools of size 0 are left out: they never have room)
 * @param exhaustedReason the refusal when no candidate has room ({@link Refusals#exhausted})
 * @param subscription    the subscription the acquire draws on (null: none)
 * @param offlineEnds     when the account pool's offline licenses end: each counts against the
 *                        account pool while it lasts, judged by the store's clock
 * @param refusal         the refusal that holds whatever the store counts (null: none); a store
 *                        still checks the subscription's expiry first when there is one, the order
 *                        the rules check in
 */
public record AcquireCandidates(List<Candidate> pools, Reason exhaustedReason, Subscription subscription,
                                List<Instant> offlineEnds, Decision.Denied<Session> refusal) {

    public AcquireCandidates {
        pools = List.copyOf(pools);
        offlineEnds = List.copyOf(offlineEnds);
        Objects.requireNonNull(exhaustedReason, "exhaustedReason");
    }

    /**
     * One pool to try. {@code size} is {@code dedicated - allocated}; for the account pool
     * ({@code lessLiveOffline}) before the offline licenses that are still live are taken off.
     */
    public record Candidate(String poolId, long size, boolean fallback, boolean lessLiveOffline) {
    }

    static AcquireCandidates refused(Subscription subscription, Decision<Session> refusal) {
        return new AcquireCandidates(List.of(), Reason.NO_LICENSE_AVAILABLE, subscription, List.of(),
                (Decision.Denied<Session>) refusal);
    }
}
