package io.licensebroker.broker.core;

import io.licensebroker.broker.core.AcquirePlan.AnyOrganizationStep;
import io.licensebroker.broker.core.AcquirePlan.PoolStep;
import io.licensebroker.broker.core.AcquirePlan.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AcquirePlanTest {
    private static final String ACCOUNT = "AC-1";
    private static final Step ASSIGNED = new PoolStep("OG-A", false);
    private static final Step P1 = new PoolStep("OG-P1", false);
    private static final Step P2 = new PoolStep("OG-P2", false);
    private static final Step OWN_ACCOUNT = new PoolStep(ACCOUNT, false);
    private static final Step FALLBACK = new PoolStep(ACCOUNT, true);
    private static final Step ANY = new AnyOrganizationStep();

    /** Project list with a duplicate and the assigned org in it: both must vanish from the plan. */
    private static final List<String> PROJECTS = List.of("OG-P2", "OG-A", "OG-P1", "OG-P2");

    static Stream<Arguments> matrix() {
        Reason none = Reason.NO_LICENSE_AVAILABLE;
        Reason orgs = Reason.ORGANIZATION_POOL_EXHAUSTED;
        return Stream.of(
                // assigned org
                Arguments.of(UsagePolicy.UNRESTRICTED, true, "OG-A", List.of(ASSIGNED, P2, P1, ANY, FALLBACK), none),
                Arguments.of(UsagePolicy.UNRESTRICTED, false, "OG-A", List.of(ASSIGNED, P2, P1, ANY), orgs),
                Arguments.of(UsagePolicy.MEMBER_BASED, true, "OG-A", List.of(ASSIGNED, P2, P1, FALLBACK), none),
                Arguments.of(UsagePolicy.MEMBER_BASED, false, "OG-A", List.of(ASSIGNED, P2, P1), orgs),
                Arguments.of(UsagePolicy.STRICT, true, "OG-A", List.of(ASSIGNED, FALLBACK), none),
                Arguments.of(UsagePolicy.STRICT, false, "OG-A", List.of(ASSIGNED), orgs),
                // no assigned org: the account pool is the user's own pool, never a fallback
                Arguments.of(UsagePolicy.UNRESTRICTED, true, null, List.of(OWN_ACCOUNT, P2, new PoolStep("OG-A", false), P1, ANY), none),
                Arguments.of(UsagePolicy.UNRESTRICTED, false, null, List.of(OWN_ACCOUNT, P2, new PoolStep("OG-A", false), P1, ANY), none),
                Arguments.of(UsagePolicy.MEMBER_BASED, true, null, List.of(OWN_ACCOUNT, P2, new PoolStep("OG-A", false), P1), none),
                Arguments.of(UsagePolicy.MEMBER_BASED, false, null, List.of(OWN_ACCOUNT, P2, new PoolStep("OG-A", false), P1), none),
                Arguments.of(UsagePolicy.STRICT, true, null, List.of(OWN_ACCOUNT), none),
                Arguments.of(UsagePolicy.STRICT, false, null, List.of(OWN_ACCOUNT), none));
    }

    @ParameterizedTest(name = "{0} fallback={1} assigned={2}")
    @MethodSource("matrix")
    void candidateOrder(UsagePolicy policy, boolean fallback, String assigned, List<Step> expected, Reason exhausted) {
        User user = new User(ACCOUNT, "u", assigned, PROJECTS);
        AcquirePlan plan = AcquirePlan.resolve(ACCOUNT, new PolicySettings(policy, fallback), user);
        assertEquals(expected, plan.steps());
        assertEquals(exhausted, plan.exhaustedReason());
        // the fallback flag is set only on the account pool tried after the org pools
        for (int i = 0; i < plan.steps().size(); i++) {
            if (plan.steps().get(i) instanceof PoolStep ps && ps.fallback()) {
                assertEquals(ACCOUNT, ps.poolId());
                assertEquals(plan.steps().size() - 1, i, "the fallback comes last");
                assertEquals(true, assigned != null && fallback);
            }
        }
    }

    @ParameterizedTest(name = "{0} fallback={1} assigned={2}")
    @MethodSource("matrix")
    void noPoolIsTriedTwice(UsagePolicy policy, boolean fallback, String assigned, List<Step> expected, Reason exhausted) {
        User user = new User(ACCOUNT, "u", assigned, PROJECTS);
        AcquirePlan plan = AcquirePlan.resolve(ACCOUNT, new PolicySettings(policy, fallback), user);
        List<String> pools = new ArrayList<>();
        for (Step s : plan.steps()) {
            if (s instanceof PoolStep ps) {
                pools.add(ps.poolId());
            }
        }
        assertEquals(pools.stream().distinct().toList(), pools);
    }

    @Test
    void withoutProjectsThePolicySetsTheTail() {
        User user = new User(ACCOUNT, "u", "OG-A", List.of());
        assertEquals(List.of(ASSIGNED, ANY, FALLBACK), AcquirePlan.resolve(ACCOUNT, PolicySettings.DEFAULT, user).steps());
        assertEquals(List.of(ASSIGNED, FALLBACK),
                AcquirePlan.resolve(ACCOUNT, new PolicySettings(UsagePolicy.MEMBER_BASED, true), user).steps());
        User nobody = new User(ACCOUNT, "u", null, List.of());
        assertEquals(List.of(OWN_ACCOUNT, ANY), AcquirePlan.resolve(ACCOUNT, PolicySettings.DEFAULT, nobody).steps());
    }

    @Test
    void projectsKeepTheirOrderAfterDeduplication() {
        User user = new User(ACCOUNT, "u", "OG-A", List.of("OG-Z", "OG-B", "OG-Z", "OG-A", "OG-C", "OG-B"));
        AcquirePlan plan = AcquirePlan.resolve(ACCOUNT, new PolicySettings(UsagePolicy.MEMBER_BASED, false), user);
        assertEquals(List.of(ASSIGNED, new PoolStep("OG-Z", false), new PoolStep("OG-B", false), new PoolStep("OG-C", false)),
                plan.steps());
    }

    @Test
    void defaultIsUnrestrictedWithFallback() {
        assertEquals(new PolicySettings(UsagePolicy.UNRESTRICTED, true), PolicySettings.DEFAULT);
    }

    @Test
    void thePlanIsImmutable() {
        AcquirePlan plan = AcquirePlan.resolve(ACCOUNT, PolicySettings.DEFAULT, new User(ACCOUNT, "u", "OG-A", List.of()));
        assertThrows(UnsupportedOperationException.class, () -> plan.steps().add(ANY));
    }
}
