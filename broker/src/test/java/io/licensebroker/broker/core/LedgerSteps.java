package io.licensebroker.broker.core;

import io.licensebroker.broker.testing.LedgerHarness;
import io.licensebroker.broker.testing.UsageInvariants;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

import static io.licensebroker.broker.testing.LedgerHarness.id;
import static io.licensebroker.broker.testing.LedgerHarness.sid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Table-driven ledger scripts: each step is one admin change or agent call with its expected
 * outcome (granted, or denied with a reason) and, optionally, the usage rows expected after it.
 * After every step the runner checks the ledger's own invariants, the invariants seen from the
 * usage table, and that the in_use figures add up to the live sessions.
 */
final class LedgerSteps {
    private LedgerSteps() {
    }

    static final class Step {
        final String what;
        final Function<LedgerHarness, Object> action;
        Reason denied;
        boolean valueExpected;
        Object value;
        final List<String> rows = new ArrayList<>();
        final List<BiConsumer<LedgerHarness, Object>> checks = new ArrayList<>();

        Step(String what, Function<LedgerHarness, Object> action) {
            this.what = what;
            this.action = action;
        }

        /** Expected denial. */
        Step denied(Reason reason) {
            this.denied = reason;
            return this;
        }

        /** The granted value (a boolean or a count) equals {@code expected}. */
        Step is(Object expected) {
            this.valueExpected = true;
            this.value = expected;
            return this;
        }

        /**
         * Rows expected after the step: {@code "label dedicated/pool/in_use/available"}; "account" is the
         * account row.
         */
        Step rows(String... specs) {
            rows.addAll(List.of(specs));
            return this;
        }

        /** The granted session draws from {@code poolLabel}, with the given fallback flag. */
        Step pool(String poolLabel, boolean fallback) {
            return check((h, v) -> {
                Session s = (Session) v;
                assertEquals(id(poolLabel), s.poolId(), "pool_id");
                assertEquals(fallback, s.fallback(), "fallback flag");
            });
        }

        Step pool(String poolLabel) {
            return pool(poolLabel, false);
        }

        /** The granted session is the one labelled {@code sessionLabel}. */
        Step session(String sessionLabel) {
            return check((h, v) -> assertEquals(sid(sessionLabel), ((Session) v).id(), "session id"));
        }

        Step check(BiConsumer<LedgerHarness, Object> check) {
            checks.add(check);
            return this;
        }
    }

    static void run(LedgerHarness h, Step... steps) {
        run(h, List.of(steps));
    }

    static void run(LedgerHarness h, List<Step> steps) {
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            String where = "step " + (i + 1) + " [" + s.what + "]";
            Object result = s.action.apply(h);
            Object value;
            if (result instanceof Decision<?> d) {
                if (s.denied != null) {
                    if (!(d instanceof Decision.Denied<?> denied)) {
                        fail(where + ": expected denial " + s.denied + ", got " + d);
                        return;
                    }
                    assertEquals(s.denied, denied.reason(), where + ": " + denied.detail());
                    value = d;
                } else {
                    if (!(d instanceof Decision.Granted<?> granted)) {
                        fail(where + ": expected granted, got " + d);
                        return;
                    }
                    value = granted.value();
                }
            } else {
                if (s.denied != null) {
                    fail(where + ": expected denial " + s.denied + ", got " + result);
                }
                value = result;
            }
            if (s.valueExpected) {
                assertEquals(s.value, value, where + ": value");
            }
            for (BiConsumer<LedgerHarness, Object> check : s.checks) {
                try {
                    check.accept(h, value);
                } catch (AssertionError e) {
                    throw new AssertionError(where + ": " + e.getMessage(), e);
                }
            }
            assertHealthy(h, where);
            LicenseUsage usage = h.usage();
            for (String spec : s.rows) {
                String[] parts = spec.trim().split("\\s+");
                String[] figures = parts[1].split("/");
                PoolRow row = usage.row(id(parts[0]));
                assertNotNull(row, where + ": no row " + parts[0] + " in " + usage.rows());
                String actual = row.dedicated() + "/" + row.pool() + "/" + row.inUse() + "/" + row.available();
                assertEquals(figures[0] + "/" + figures[1] + "/" + figures[2] + "/" + figures[3], actual,
                        where + ": row " + parts[0] + " (dedicated/pool/in_use/available)");
            }
        }
    }

    /** The ledger's own invariants, the contract's invariants seen from the usage table, and the session count. */
    static void assertHealthy(LedgerHarness h, String where) {
        assertEquals(List.of(), h.ledger.invariantViolations(), where + ": ledger invariants");
        LicenseUsage usage = h.usage();
        assertEquals(List.of(), UsageInvariants.violations(usage), where + ": usage invariants");
        assertEquals(h.ledger.liveSessions(), UsageInvariants.totalInUse(usage), where + ": sum of in_use vs live sessions");
    }

    // ---------------------------------------------------------------- step factories

    static Step sub(long licenses, long machineQuota) {
        return new Step("subscription " + licenses + " licenses, " + machineQuota + " machines",
                h -> h.subscribe(licenses, machineQuota));
    }

    static Step sub(long licenses, long machineQuota, Duration expiresIn) {
        return new Step("subscription " + licenses + " licenses, " + machineQuota + " machines, expiring in " + expiresIn,
                h -> h.subscribe(licenses, machineQuota, h.now().plus(expiresIn)));
    }

    static Step org(String label) {
        return org(label, null);
    }

    static Step org(String label, String parent) {
        return new Step("create org " + label + (parent == null ? "" : " under " + parent), h -> h.org(label, parent));
    }

    static Step ded(String label, long licenses) {
        return new Step("dedicated " + label + " = " + licenses, h -> h.dedicated(label, licenses));
    }

    static Step user(String userId, String assigned, String... projects) {
        return new Step("user " + userId + " assigned " + assigned + " projects " + List.of(projects),
                h -> h.user(userId, assigned, projects));
    }

    static Step policy(UsagePolicy policy, boolean fallback) {
        return new Step("policy " + policy + " fallback " + fallback, h -> Decision.granted(h.policy(policy, fallback)));
    }

    static Step acq(String session, String user, String machine) {
        return acq(session, user, machine, "");
    }

    static Step acq(String session, String user, String machine, String requestId) {
        return new Step("acquire " + session + " by " + user + " on " + machine + (requestId.isEmpty() ? "" : " request " + requestId),
                h -> h.acquire(session, user, machine, requestId));
    }

    static Step renew(String session, String user) {
        return new Step("renew " + session + " by " + user, h -> h.renew(session, user));
    }

    static Step release(String session, String user) {
        return new Step("release " + session + " by " + user, h -> h.release(session, user));
    }

    static Step terminate(String session) {
        return new Step("terminate " + session, h -> h.terminate(session));
    }

    static Step expire() {
        return new Step("expire", h -> h.expire());
    }

    static Step advance(Duration d) {
        return new Step("advance " + d, h -> h.advance(d));
    }

    static Step offline(String machine, Duration expiresIn) {
        return new Step("offline license for " + machine + " expiring in " + expiresIn,
                h -> h.offline(machine, h.now().plus(expiresIn)));
    }

    static Step deactivate(String machine) {
        return new Step("deactivate " + machine, h -> h.deactivate(machine));
    }

    static Step check(String what, BiConsumer<LedgerHarness, Object> check) {
        return new Step(what, h -> Boolean.TRUE).check(check);
    }
}
