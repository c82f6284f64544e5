package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The model's own statement of which pool an acquire draws from (written from the contract, not
 * from {@code AcquirePlan}): the assigned org (or the account), then with MEMBER_BASED or
 * UNRESTRICTED the project orgs, then with UNRESTRICTED every org in creation order, then, for an
 * assigned user with fallback allowed, the account pool.
 */
final class ModelPools {
    record Choice(Reason denial, String pool, boolean fallback) {
    }

    private ModelPools() {
    }

    static Choice choose(String account, User u, PolicySettings policy, List<String> orgsInCreationOrder, Map<String, Long> available) {
        List<String> candidates = new ArrayList<>();
        candidates.add(u.assignedOrgId() == null ? account : u.assignedOrgId());
        if (policy.policy() != UsagePolicy.STRICT) {
            candidates.addAll(u.projectOrgIds());
        }
        if (policy.policy() == UsagePolicy.UNRESTRICTED) {
            candidates.addAll(orgsInCreationOrder);
        }
        for (String c : candidates) {
            if (available.getOrDefault(c, 0L) > 0) {
                return new Choice(null, c, false);
            }
        }
        if (u.assignedOrgId() != null && policy.allowFallback() && available.getOrDefault(account, 0L) > 0) {
            return new Choice(null, account, true);
        }
        return new Choice(u.assignedOrgId() != null && !policy.allowFallback()
                ? Reason.ORGANIZATION_POOL_EXHAUSTED : Reason.NO_LICENSE_AVAILABLE, null, false);
    }
}
