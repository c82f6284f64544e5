package io.licensebroker.broker.core;

import io.licensebroker.broker.testing.LedgerHarness;
import io.licensebroker.broker.testing.ReferenceModel;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.broker.testing.ModelTarget;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.LongStream;

import static io.licensebroker.broker.testing.LedgerHarness.ACCOUNT;
import static io.licensebroker.broker.testing.LedgerHarness.KRE;
import static io.licensebroker.broker.testing.LedgerHarness.MAX_OFFLINE;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The randomized {@link ReferenceModel} (20 seeds of 2,000 steps) on the pure ledger, plus what only
 * the ledger shows: its internal invariants after every step and a snapshot round trip at the end.
 * {@code store.LicenseStoreModelTest} runs the same model through each store. Replay one seed with
 * {@code -Dmodel.seed=N}.
 */
class AccountLedgerModelTest {
    private static final int STEPS = 2_000;

    static LongStream seeds() {
        return ModelSeeds.orReplay(LongStream.rangeClosed(1, 20));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomStepsKeepTheInvariantAndFollowTheRules(long seed) {
        LedgerHarness h = new LedgerHarness(Duration.ofMinutes(5));
        new ReferenceModel(new LedgerTarget(h), seed).run(ModelSeeds.steps(STEPS));
        // the state survives a snapshot round trip
        LedgerHarness copy = AccountLedgerTest.replayedFromExport(h);
        AccountLedgerTest.assertSameState(h.ledger, copy.ledger, h.now());
    }

    /** The model's verbs straight on the ledger (organization ids are chosen here, like a store would). */
    private static final class LedgerTarget implements ModelTarget {
        private final LedgerHarness h;
        private int orgs;

        LedgerTarget(LedgerHarness h) {
            this.h = h;
        }

        @Override
        public String accountId() {
            return ACCOUNT;
        }

        @Override
        public Instant now() {
            return h.now();
        }

        @Override
        public void advance(Duration by) {
            h.advance(by);
        }

        @Override
        public Decision<Subscription> subscribe(long licenses, long machineQuota) {
            return h.subscribe(licenses, machineQuota);
        }

        @Override
        public Decision<Organization> createOrganization(String parentId, String name) {
            return h.ledger.createOrganization("OG-" + (++orgs), parentId, name);
        }

        @Override
        public Decision<LicenseUsage> setDedicated(String orgId, long licenses) {
            return h.ledger.setDedicated(orgId, KRE, licenses, h.now());
        }

        @Override
        public Decision<User> upsertUser(String userId, String assignedOrgId, List<String> projectOrgIds) {
            return h.ledger.upsertUser(userId, assignedOrgId, projectOrgIds);
        }

        @Override
        public PolicySettings setPolicy(PolicySettings settings) {
            return h.ledger.setPolicy(settings);
        }

        @Override
        public Decision<Session> acquire(String sessionName, String userId, String machineId, String requestId, Instant leaseExpiresAt) {
            return h.ledger.acquire(new AcquireRequest(KRE, userId, machineId, requestId, sessionName, h.now(), leaseExpiresAt));
        }

        @Override
        public Decision<Session> renew(String sessionName, String userId, Instant newExpiry) {
            return h.ledger.renew(sessionName, userId, h.now(), newExpiry);
        }

        @Override
        public Decision<Boolean> release(String sessionName, String userId) {
            return h.ledger.release(sessionName, userId, h.now());
        }

        @Override
        public boolean terminate(String sessionName) {
            return h.ledger.terminate(sessionName, h.now());
        }

        @Override
        public int expire() {
            return h.expire();
        }

        @Override
        public Decision<OfflineLicense> offline(String machineId, Instant expiresAt) {
            return h.ledger.issueOfflineLicense(KRE, machineId, expiresAt, MAX_OFFLINE, h.now());
        }

        @Override
        public boolean deactivate(String machineId) {
            return h.deactivate(machineId);
        }

        @Override
        public LicenseUsage usage() {
            return h.usage();
        }

        @Override
        public List<Session> sessions() {
            return h.sessions();
        }

        @Override
        public List<Machine> machines() {
            return h.ledger.machines(KRE, h.now());
        }

        @Override
        public void afterStep(String where) {
            LedgerSteps.assertHealthy(h, where);
            assertEquals(h.ledger.liveSessions(), h.sessions().size(), where + ": listed sessions");
        }
    }
}
