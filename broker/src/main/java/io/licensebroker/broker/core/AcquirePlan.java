package io.licensebroker.broker.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The ordered candidate pools of one acquire, computed from the usage policy. A store walks the
 * steps atomically and takes the first pool with an available license; when none has one the
 * acquire is denied with {@link #exhaustedReason()}.
 *
 * <p>This is the one place the policy rules live; every store obeys the plan it is given.
 */
public record AcquirePlan(List<Step> steps, Reason exhaustedReason) {

    public AcquirePlan {
        steps = List.copyOf(steps);
        Objects.requireNonNull(exhaustedReason, "exhaustedReason");
    }

    /** One candidate. */
    public sealed interface Step permits PoolStep, AnyOrganizationStep {
    }

    /**
     * A specific pool: an organization id or the account id. {@code fallback} marks the account pool
     * when it is used because the user's organization pools were exhausted.
     */
    public record PoolStep(String poolId, boolean fallback) implements Step {
    }

    /**
     * Any organization of the account with an available license, in creation order. Organizations
     * tried earlier in the plan have no room by then, so they need no exclusion.
     */
    public record AnyOrganizationStep() implements Step {
    }

    /** The user's own pool, a plan's first step: the assigned organization, or the account pool for a user with none. */
    public static String homePool(String accountId, User user) {
        return user.assignedOrgId() != null ? user.assignedOrgId() : accountId;
    }

    /**
     * The candidates for {@code user} in {@code accountId} under {@code settings}:
     * <ul>
     *   <li>with an assigned org: the assigned org; then (not STRICT) project orgs; then
     *       (UNRESTRICTED) any org with room; then the account pool as fallback when allowed;</li>
     *   <li>without one: the account pool (the user's own pool, not a fallback); then (not STRICT)
     *       project orgs; then (UNRESTRICTED) any org with room.</li>
     * </ul>
     */
    public static AcquirePlan resolve(String accountId, PolicySettings settings, User user) {
        List<Step> steps = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        String assigned = user.assignedOrgId();
        String home = homePool(accountId, user);
        seen.add(home);
        steps.add(new PoolStep(home, false));
        if (settings.policy() != UsagePolicy.STRICT) {
            for (String org : user.projectOrgIds()) {
                if (seen.add(org)) {
                    steps.add(new PoolStep(org, false));
                }
            }
        }
        if (settings.policy() == UsagePolicy.UNRESTRICTED) {
            steps.add(new AnyOrganizationStep());
        }
        if (assigned == null) {
            return new AcquirePlan(steps, Reason.NO_LICENSE_AVAILABLE);
        }
        if (settings.allowFallback()) {
            steps.add(new PoolStep(accountId, true));
            return new AcquirePlan(steps, Reason.NO_LICENSE_AVAILABLE);
        }
        return new AcquirePlan(steps, Reason.ORGANIZATION_POOL_EXHAUSTED);
    }
}
