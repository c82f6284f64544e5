package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.Machine;
import io.licensebroker.proto.v1.Organization;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.Session;
import io.licensebroker.proto.v1.Subscription;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.User;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;

import java.time.Instant;

/**
 * Domain records to wire messages and back. Core nulls ("no parent", "no subscription") become
 * proto3 defaults: empty strings and absent Timestamps.
 */
final class Protos {
    private Protos() {
    }

    static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    static Duration duration(java.time.Duration duration) {
        return Duration.newBuilder().setSeconds(duration.getSeconds()).setNanos(duration.getNano()).build();
    }

    static Account account(io.licensebroker.broker.core.Account a) {
        return Account.newBuilder().setAccountId(a.id()).setName(a.name()).build();
    }

    static Subscription subscription(io.licensebroker.broker.core.Subscription s) {
        return Subscription.newBuilder()
                .setAccountId(s.accountId())
                .setProduct(s.product())
                .setLicenses(s.licenses())
                .setMachineQuota(s.machineQuota())
                .setExpiresAt(timestamp(s.expiresAt()))
                .setLicenseModel(licenseModel(s.model()))
                .build();
    }

    static io.licensebroker.proto.v1.LicenseModel licenseModel(io.licensebroker.broker.core.LicenseModel m) {
        return switch (m) {
            case SESSION -> io.licensebroker.proto.v1.LicenseModel.LICENSE_MODEL_SESSION;
            case NODE_LOCKED -> io.licensebroker.proto.v1.LicenseModel.LICENSE_MODEL_NODE_LOCKED;
            case FLOATING -> io.licensebroker.proto.v1.LicenseModel.LICENSE_MODEL_FLOATING;
        };
    }

    static Organization organization(io.licensebroker.broker.core.Organization o) {
        return Organization.newBuilder()
                .setOrgId(o.id())
                .setAccountId(o.accountId())
                .setParentId(orEmpty(o.parentId()))
                .setName(o.name())
                .build();
    }

    static User user(io.licensebroker.broker.core.User u) {
        return User.newBuilder()
                .setAccountId(u.accountId())
                .setUserId(u.userId())
                .setAssignedOrgId(orEmpty(u.assignedOrgId()))
                .addAllProjectOrgIds(u.projectOrgIds())
                .build();
    }

    static UsagePolicySettings policySettings(PolicySettings s) {
        return UsagePolicySettings.newBuilder().setPolicy(policy(s.policy())).setAllowFallback(s.allowFallback()).build();
    }

    static io.licensebroker.proto.v1.UsagePolicy policy(io.licensebroker.broker.core.UsagePolicy p) {
        return switch (p) {
            case UNRESTRICTED -> io.licensebroker.proto.v1.UsagePolicy.USAGE_POLICY_UNRESTRICTED;
            case MEMBER_BASED -> io.licensebroker.proto.v1.UsagePolicy.USAGE_POLICY_MEMBER_BASED;
            case STRICT -> io.licensebroker.proto.v1.UsagePolicy.USAGE_POLICY_STRICT;
        };
    }

    /** Only for values {@link Validation#policy} accepted. */
    static io.licensebroker.broker.core.UsagePolicy policy(io.licensebroker.proto.v1.UsagePolicy p) {
        return switch (p) {
            case USAGE_POLICY_UNRESTRICTED -> io.licensebroker.broker.core.UsagePolicy.UNRESTRICTED;
            case USAGE_POLICY_MEMBER_BASED -> io.licensebroker.broker.core.UsagePolicy.MEMBER_BASED;
            case USAGE_POLICY_STRICT -> io.licensebroker.broker.core.UsagePolicy.STRICT;
            case USAGE_POLICY_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("not a policy: " + p);
        };
    }

    /** The account row comes first (the core guarantees the order; the wire keeps it). */
    static LicenseUsage usage(io.licensebroker.broker.core.LicenseUsage u) {
        LicenseUsage.Builder b = LicenseUsage.newBuilder()
                .setAccountId(u.accountId())
                .setProduct(u.product())
                .setLicenses(u.licenses())
                .setMachineQuota(u.machineQuota())
                .setRegisteredMachines(u.registeredMachines())
                .setOfflineLicenses(u.offlineLicenses())
                .setLicenseModel(licenseModel(u.subscription() == null
                        ? io.licensebroker.broker.core.LicenseModel.SESSION : u.subscription().model()));
        if (u.expiresAt() != null) {
            b.setExpiresAt(timestamp(u.expiresAt()));
        }
        for (io.licensebroker.broker.core.PoolRow r : u.rows()) {
            b.addRows(PoolRow.newBuilder()
                    .setPoolId(r.poolId())
                    .setName(r.name())
                    .setParentId(orEmpty(r.parentId()))
                    .setDedicated(r.dedicated())
                    .setPool(r.pool())
                    .setInUse(r.inUse())
                    .setAvailable(r.available()));
        }
        return b.build();
    }

    static Session session(io.licensebroker.broker.core.Session s) {
        return Session.newBuilder()
                .setSessionId(s.id())
                .setAccountId(s.accountId())
                .setProduct(s.product())
                .setUserId(s.userId())
                .setMachineId(s.machineId())
                .setPoolId(s.poolId())
                .setFallback(s.fallback())
                .setStartedAt(timestamp(s.startedAt()))
                .setLeaseExpiresAt(timestamp(s.leaseExpiresAt()))
                .build();
    }

    static Machine machine(io.licensebroker.broker.core.Machine m) {
        Machine.Builder b = Machine.newBuilder()
                .setMachineId(m.machineId())
                .setProduct(m.product())
                .setLiveSessions(m.liveSessions());
        if (m.registeredAt() != null) {
            b.setRegisteredAt(timestamp(m.registeredAt()));
        }
        if (m.offlineExpiresAt() != null) {
            b.setOfflineExpiresAt(timestamp(m.offlineExpiresAt()));
        }
        return b.build();
    }

    static IssueOfflineLicenseResponse issued(LicenseService.IssuedOfflineLicense issued) {
        return IssueOfflineLicenseResponse.newBuilder()
                .setFileName(issued.fileName())
                .setLicenseFile(ByteString.copyFrom(issued.file()))
                .setExpiresAt(timestamp(issued.license().expiresAt()))
                .build();
    }

    static VerifyOfflineLicenseResponse verified(io.licensebroker.broker.core.OfflineLicense license) {
        return VerifyOfflineLicenseResponse.newBuilder()
                .setValid(true)
                .setAccountId(license.accountId())
                .setProduct(license.product())
                .setMachineId(license.machineId())
                .setExpiresAt(timestamp(license.expiresAt()))
                .build();
    }

    /** A seat as "Licensed Users" shows it: machine_id set once a node-locked seat is bound, offline_until while a file binds it. */
    static LicensedUser licensedUser(io.licensebroker.broker.core.LicensedUser u) {
        io.licensebroker.broker.core.Seat seat = u.seat();
        LicensedUser.Builder b = LicensedUser.newBuilder()
                .setAccountId(seat.accountId())
                .setProduct(seat.product())
                .setUserId(seat.userId())
                .setPoolId(seat.poolId())
                .setGrantedAt(timestamp(seat.grantedAt()))
                .setMachineId(orEmpty(seat.machineId()));
        if (u.offlineUntil() != null) {
            b.setOfflineUntil(timestamp(u.offlineUntil()));
        }
        return b.build();
    }

    /**
     * A seat in use on a machine. A floating activation is a lease: it carries its end and how
     * often to renew it; a node-locked binding has neither (it lasts until an admin deactivates the machine).
     */
    static Activation activation(io.licensebroker.broker.core.Activation a, java.time.Duration renewInterval) {
        Activation.Builder b = Activation.newBuilder()
                .setActivationId(a.activationId())
                .setAccountId(a.accountId())
                .setProduct(a.product())
                .setUserId(a.userId())
                .setMachineId(a.machineId())
                .setPoolId(a.poolId())
                .setActivatedAt(timestamp(a.activatedAt()));
        if (a.leaseExpiresAt() != null) {
            b.setLeaseExpiresAt(timestamp(a.leaseExpiresAt())).setRenewInterval(duration(renewInterval));
        }
        return b.build();
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }

    // ---------------------------------------------------------------- usage history

    static io.licensebroker.proto.v1.UsageSeries usageSeries(io.licensebroker.broker.core.UsageSeries s) {
        io.licensebroker.proto.v1.UsageSeries.Builder b = io.licensebroker.proto.v1.UsageSeries.newBuilder().setPoolId(s.poolId());
        for (io.licensebroker.broker.core.UsagePoint p : s.points()) {
            io.licensebroker.proto.v1.UsagePoint.Builder point = io.licensebroker.proto.v1.UsagePoint.newBuilder()
                    .setStartTime(timestamp(p.start())).setPeakInUse(p.peakInUse()).setGranted(p.granted()).setDenied(p.denied());
            p.deniedByReason().forEach((reason, n) -> point.putDeniedByReason(reason.name(), n));
            b.addPoints(point);
        }
        return b.build();
    }

    static io.licensebroker.proto.v1.DenialRow denialRow(io.licensebroker.broker.core.DenialRow r) {
        return io.licensebroker.proto.v1.DenialRow.newBuilder().setPoolId(r.poolId()).setUserId(r.userId())
                .setReason(r.reason().name()).setCount(r.count()).setLastDeniedAt(timestamp(r.lastDenied())).build();
    }
}
