package io.licensebroker.broker.store.memory;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;
import io.licensebroker.broker.store.memory.proto.Checkpoint;
import io.licensebroker.broker.store.memory.proto.JournalRecord;
import io.licensebroker.broker.store.memory.proto.SnapshotEnd;
import io.licensebroker.broker.store.memory.proto.StoredAccount;
import io.licensebroker.broker.store.memory.proto.StoredCredential;
import io.licensebroker.broker.store.memory.proto.StoredCredentialRevoked;
import io.licensebroker.broker.store.memory.proto.StoredDedicatedSet;
import io.licensebroker.broker.store.memory.proto.StoredInstant;
import io.licensebroker.broker.store.memory.proto.StoredMachineEvent;
import io.licensebroker.broker.store.memory.proto.StoredOfflineLicense;
import io.licensebroker.broker.store.memory.proto.StoredOrganization;
import io.licensebroker.broker.store.memory.proto.StoredPolicy;
import io.licensebroker.broker.store.memory.proto.StoredReason;
import io.licensebroker.broker.store.memory.proto.StoredRole;
import io.licensebroker.broker.store.memory.proto.StoredSession;
import io.licensebroker.broker.store.memory.proto.StoredSessionEnd;
import io.licensebroker.broker.store.memory.proto.StoredSubscription;
import io.licensebroker.broker.store.memory.proto.StoredUsagePolicy;
import io.licensebroker.broker.store.memory.proto.StoredUser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.zip.CRC32C;

/**
 * Maps {@link LedgerEvent}s to and from the journal's protobuf records (journal.proto), and frames
 * records on disk as {@code [int length][int CRC32C of payload][payload]} (big-endian).
 *
 * <p>Enums are stored by name with a prefix (see journal.proto), so reordering a Java enum never
 * changes what old files mean. Nullable fields use proto presence, so null round-trips as null.
 */
final class JournalCodec {

    /** Bytes before each payload: length, then CRC32C. */
    static final int HEADER_BYTES = 8;
    /** Larger lengths are garbage, not records: bounds what a torn header can make a reader allocate. */
    static final int MAX_PAYLOAD_BYTES = 64 << 20;

    private static final String ROLE_PREFIX = "ROLE_";
    private static final String USAGE_POLICY_PREFIX = "USAGE_POLICY_";
    static final String REASON_PREFIX = "REASON_";

    private JournalCodec() {
    }

    // ---------------------------------------------------------------- records

    /** The record of one ledger event. */
    static JournalRecord event(String accountId, long seq, LedgerEvent event) {
        JournalRecord.Builder b = JournalRecord.newBuilder().setAccountId(accountId).setSeq(seq);
        if (event instanceof LedgerEvent.AccountCreated e) {
            b.setAccountCreated(account(e.account()));
        } else if (event instanceof LedgerEvent.CredentialAdded e) {
            b.setCredentialAdded(credential(e.credential()));
        } else if (event instanceof LedgerEvent.CredentialRevoked e) {
            b.setCredentialRevoked(StoredCredentialRevoked.newBuilder().setLookupId(e.lookupId()));
        } else if (event instanceof LedgerEvent.SubscriptionSet e) {
            b.setSubscriptionSet(subscription(e.subscription()));
        } else if (event instanceof LedgerEvent.OrganizationCreated e) {
            b.setOrganizationCreated(organization(e.organization()));
        } else if (event instanceof LedgerEvent.DedicatedSet e) {
            StoredDedicatedSet.Builder d = StoredDedicatedSet.newBuilder().setLicenses(e.licenses());
            if (e.orgId() != null) {
                d.setOrgId(e.orgId());
            }
            if (e.product() != null) {
                d.setProduct(e.product());
            }
            b.setDedicatedSet(d);
        } else if (event instanceof LedgerEvent.UserUpserted e) {
            b.setUserUpserted(user(e.user()));
        } else if (event instanceof LedgerEvent.PolicySet e) {
            b.setPolicySet(policy(e.settings()));
        } else if (event instanceof LedgerEvent.MachineRegistered e) {
            b.setMachineRegistered(machineEvent(e.product(), e.machineId(), e.at()));
        } else if (event instanceof LedgerEvent.MachineDeactivated e) {
            b.setMachineDeactivated(machineEvent(e.product(), e.machineId(), e.at()));
        } else if (event instanceof LedgerEvent.SessionStarted e) {
            b.setSessionStarted(session(e.session()));
        } else if (event instanceof LedgerEvent.SessionEnded e) {
            b.setSessionEnded(sessionEnd(e));
        } else if (event instanceof LedgerEvent.OfflineLicenseIssued e) {
            b.setOfflineLicenseIssued(offlineLicense(e.license()));
        } else if (event instanceof LedgerEvent.OfflineLicenseExpired e) {
            b.setOfflineLicenseExpired(machineEvent(e.product(), e.machineId(), e.at()));
        } else if (event instanceof LedgerEvent.SeatGranted e) {
            b.setSeatGranted(SeatCodec.seat(e.seat()));
        } else if (event instanceof LedgerEvent.SeatRemoved e) {
            b.setSeatRemoved(SeatCodec.removed(e));
        } else if (event instanceof LedgerEvent.SeatBound e) {
            b.setSeatBound(SeatCodec.bound(e));
        } else if (event instanceof LedgerEvent.SeatUnbound e) {
            b.setSeatUnbound(SeatCodec.unbound(e));
        } else if (event instanceof LedgerEvent.UsageRecorded e) {
            b.setUsageRecorded(HistoryCodec.recorded(e));
        } else if (event instanceof LedgerEvent.HistoryRestored e) {
            b.setHistoryRestored(HistoryCodec.restored(e));
        } else {
            throw new IllegalArgumentException("no journal encoding for event " + event);
        }
        return b.build();
    }

    /** A snapshot's marker after an account's events: the seq the exported state stood at. */
    static JournalRecord checkpoint(String accountId, long seq) {
        return JournalRecord.newBuilder().setAccountId(accountId).setSeq(seq)
                .setCheckpoint(Checkpoint.getDefaultInstance()).build();
    }

    /** The last record of a complete snapshot. */
    static JournalRecord snapshotEnd(long accounts, long generation) {
        return JournalRecord.newBuilder()
                .setSnapshotEnd(SnapshotEnd.newBuilder().setAccounts(accounts).setGeneration(generation)).build();
    }

    /** True for the twelve event kinds (false for checkpoints and snapshot ends). */
    static boolean isEvent(JournalRecord r) {
        return switch (r.getKindCase()) {
            case CHECKPOINT, SNAPSHOT_END, KIND_NOT_SET -> false;
            default -> true;
        };
    }

    /** The ledger event a record holds; {@link IllegalArgumentException} when it holds none or is invalid. */
    static LedgerEvent event(JournalRecord r) {
        try {
            return switch (r.getKindCase()) {
                case ACCOUNT_CREATED -> new LedgerEvent.AccountCreated(account(r.getAccountCreated()));
                case CREDENTIAL_ADDED -> new LedgerEvent.CredentialAdded(credential(r.getCredentialAdded()));
                case CREDENTIAL_REVOKED -> {
                    String id = r.getCredentialRevoked().getLookupId();
                    if (id.isEmpty()) {
                        throw new IllegalArgumentException("invalid CREDENTIAL_REVOKED record: no lookup id");
                    }
                    yield new LedgerEvent.CredentialRevoked(id);
                }
                case SUBSCRIPTION_SET -> new LedgerEvent.SubscriptionSet(subscription(r.getSubscriptionSet()));
                case ORGANIZATION_CREATED -> new LedgerEvent.OrganizationCreated(organization(r.getOrganizationCreated()));
                case DEDICATED_SET -> {
                    StoredDedicatedSet d = r.getDedicatedSet();
                    yield new LedgerEvent.DedicatedSet(d.hasOrgId() ? d.getOrgId() : null,
                            d.hasProduct() ? d.getProduct() : null, d.getLicenses());
                }
                case USER_UPSERTED -> new LedgerEvent.UserUpserted(user(r.getUserUpserted()));
                case POLICY_SET -> new LedgerEvent.PolicySet(policy(r.getPolicySet()));
                case MACHINE_REGISTERED -> {
                    StoredMachineEvent m = r.getMachineRegistered();
                    yield new LedgerEvent.MachineRegistered(m.hasProduct() ? m.getProduct() : null,
                            m.hasMachineId() ? m.getMachineId() : null, instant(m.hasAt(), m.getAt()));
                }
                case MACHINE_DEACTIVATED -> {
                    StoredMachineEvent m = r.getMachineDeactivated();
                    yield new LedgerEvent.MachineDeactivated(m.hasProduct() ? m.getProduct() : null,
                            m.hasMachineId() ? m.getMachineId() : null, instant(m.hasAt(), m.getAt()));
                }
                case SESSION_STARTED -> new LedgerEvent.SessionStarted(session(r.getSessionStarted()));
                case SESSION_ENDED -> {
                    StoredSessionEnd s = r.getSessionEnded();
                    yield new LedgerEvent.SessionEnded(s.hasSessionId() ? s.getSessionId() : null,
                            s.hasCause() ? fromStored(s.getCause().name(), REASON_PREFIX, Reason.class) : null,
                            instant(s.hasAt(), s.getAt()));
                }
                case OFFLINE_LICENSE_ISSUED -> new LedgerEvent.OfflineLicenseIssued(offlineLicense(r.getOfflineLicenseIssued()));
                case OFFLINE_LICENSE_EXPIRED -> {
                    StoredMachineEvent m = r.getOfflineLicenseExpired();
                    yield new LedgerEvent.OfflineLicenseExpired(m.hasProduct() ? m.getProduct() : null,
                            m.hasMachineId() ? m.getMachineId() : null, instant(m.hasAt(), m.getAt()));
                }
                case SEAT_GRANTED -> new LedgerEvent.SeatGranted(SeatCodec.seat(r.getSeatGranted()));
                case SEAT_REMOVED -> SeatCodec.removed(r.getSeatRemoved());
                case SEAT_BOUND -> SeatCodec.bound(r.getSeatBound());
                case SEAT_UNBOUND -> SeatCodec.unbound(r.getSeatUnbound());
                case USAGE_RECORDED -> HistoryCodec.recorded(r.getUsageRecorded());
                case HISTORY_RESTORED -> HistoryCodec.restored(r.getHistoryRestored());
                case CHECKPOINT, SNAPSHOT_END, KIND_NOT_SET -> throw new IllegalArgumentException("not an event: " + r.getKindCase());
            };
        } catch (NullPointerException e) {
            // A required field was absent: the record constructors reject it.
            throw new IllegalArgumentException("invalid " + r.getKindCase() + " record: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- framing

    /** The framed bytes of a record: header then payload, in one array. */
    static byte[] frame(JournalRecord r) {
        int size = r.getSerializedSize();
        if (size > MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("journal record of " + size + " bytes exceeds " + MAX_PAYLOAD_BYTES);
        }
        byte[] out = new byte[HEADER_BYTES + size];
        CodedOutputStream cos = CodedOutputStream.newInstance(out, HEADER_BYTES, size);
        try {
            r.writeTo(cos);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding into an array cannot fail", e);
        }
        cos.checkNoSpaceLeft();
        ByteBuffer.wrap(out, 0, HEADER_BYTES).putInt(size).putInt(crc(out, HEADER_BYTES, size));
        return out;
    }

    static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    // ---------------------------------------------------------------- values

    private static StoredAccount account(Account a) {
        return StoredAccount.newBuilder().setId(a.id()).setName(a.name()).build();
    }

    private static Account account(StoredAccount a) {
        return new Account(a.getId(), a.getName());
    }

    private static StoredCredential credential(Credential c) {
        StoredCredential.Builder b = StoredCredential.newBuilder()
                .setLookupId(c.lookupId())
                .setSalt(ByteString.copyFrom(c.salt()))
                .setSecretHash(ByteString.copyFrom(c.secretHash()))
                .setRole(toStored(c.role(), ROLE_PREFIX, StoredRole.class));
        if (c.accountId() != null) {
            b.setAccountId(c.accountId());
        }
        if (c.userId() != null) {
            b.setUserId(c.userId());
        }
        if (c.orgId() != null) {
            b.setOrgId(c.orgId());
        }
        return b.build();
    }

    private static Credential credential(StoredCredential c) {
        return new Credential(c.getLookupId(), c.getSalt().toByteArray(), c.getSecretHash().toByteArray(),
                fromStored(c.getRole().name(), ROLE_PREFIX, Role.class),
                c.hasAccountId() ? c.getAccountId() : null, c.hasUserId() ? c.getUserId() : null,
                c.hasOrgId() ? c.getOrgId() : null);
    }

    private static StoredSubscription subscription(Subscription s) {
        return StoredSubscription.newBuilder()
                .setAccountId(s.accountId())
                .setProduct(s.product())
                .setLicenses(s.licenses())
                .setMachineQuota(s.machineQuota())
                .setExpiresAt(instant(s.expiresAt()))
                .setLicenseModel(SeatCodec.model(s.model()))
                .build();
    }

    private static Subscription subscription(StoredSubscription s) {
        return new Subscription(s.getAccountId(), s.getProduct(), s.getLicenses(), s.getMachineQuota(),
                instant(s.hasExpiresAt(), s.getExpiresAt()), SeatCodec.model(s.getLicenseModel()));
    }

    private static StoredOrganization organization(Organization o) {
        StoredOrganization.Builder b = StoredOrganization.newBuilder()
                .setId(o.id()).setAccountId(o.accountId()).setName(o.name());
        if (o.parentId() != null) {
            b.setParentId(o.parentId());
        }
        return b.build();
    }

    private static Organization organization(StoredOrganization o) {
        return new Organization(o.getId(), o.getAccountId(), o.hasParentId() ? o.getParentId() : null, o.getName());
    }

    private static StoredUser user(User u) {
        StoredUser.Builder b = StoredUser.newBuilder()
                .setAccountId(u.accountId()).setUserId(u.userId()).addAllProjectOrgIds(u.projectOrgIds());
        if (u.assignedOrgId() != null) {
            b.setAssignedOrgId(u.assignedOrgId());
        }
        return b.build();
    }

    private static User user(StoredUser u) {
        return new User(u.getAccountId(), u.getUserId(), u.hasAssignedOrgId() ? u.getAssignedOrgId() : null,
                u.getProjectOrgIdsList());
    }

    private static StoredPolicy policy(PolicySettings p) {
        return StoredPolicy.newBuilder()
                .setPolicy(toStored(p.policy(), USAGE_POLICY_PREFIX, StoredUsagePolicy.class))
                .setAllowFallback(p.allowFallback())
                .build();
    }

    private static PolicySettings policy(StoredPolicy p) {
        return new PolicySettings(fromStored(p.getPolicy().name(), USAGE_POLICY_PREFIX, UsagePolicy.class),
                p.getAllowFallback());
    }

    private static StoredMachineEvent machineEvent(String product, String machineId, Instant at) {
        StoredMachineEvent.Builder b = StoredMachineEvent.newBuilder();
        if (product != null) {
            b.setProduct(product);
        }
        if (machineId != null) {
            b.setMachineId(machineId);
        }
        if (at != null) {
            b.setAt(instant(at));
        }
        return b.build();
    }

    private static StoredSession session(Session s) {
        return StoredSession.newBuilder()
                .setId(s.id())
                .setAccountId(s.accountId())
                .setProduct(s.product())
                .setUserId(s.userId())
                .setMachineId(s.machineId())
                .setPoolId(s.poolId())
                .setFallback(s.fallback())
                .setRequestId(s.requestId())
                .setStartedAt(instant(s.startedAt()))
                .setLeaseExpiresAt(instant(s.leaseExpiresAt()))
                .build();
    }

    private static Session session(StoredSession s) {
        return new Session(s.getId(), s.getAccountId(), s.getProduct(), s.getUserId(), s.getMachineId(), s.getPoolId(),
                s.getFallback(), s.getRequestId(), instant(s.hasStartedAt(), s.getStartedAt()),
                instant(s.hasLeaseExpiresAt(), s.getLeaseExpiresAt()));
    }

    private static StoredSessionEnd sessionEnd(LedgerEvent.SessionEnded e) {
        StoredSessionEnd.Builder b = StoredSessionEnd.newBuilder();
        if (e.sessionId() != null) {
            b.setSessionId(e.sessionId());
        }
        if (e.cause() != null) {
            b.setCause(toStored(e.cause(), REASON_PREFIX, StoredReason.class));
        }
        if (e.at() != null) {
            b.setAt(instant(e.at()));
        }
        return b.build();
    }

    private static StoredOfflineLicense offlineLicense(OfflineLicense l) {
        StoredOfflineLicense.Builder b = StoredOfflineLicense.newBuilder();
        if (l.accountId() != null) {
            b.setAccountId(l.accountId());
        }
        if (l.product() != null) {
            b.setProduct(l.product());
        }
        if (l.machineId() != null) {
            b.setMachineId(l.machineId());
        }
        if (l.issuedAt() != null) {
            b.setIssuedAt(instant(l.issuedAt()));
        }
        if (l.expiresAt() != null) {
            b.setExpiresAt(instant(l.expiresAt()));
        }
        if (l.userId() != null) {
            b.setUserId(l.userId());
        }
        return b.build();
    }

    private static OfflineLicense offlineLicense(StoredOfflineLicense l) {
        return new OfflineLicense(l.hasAccountId() ? l.getAccountId() : null, l.hasProduct() ? l.getProduct() : null,
                l.hasMachineId() ? l.getMachineId() : null, instant(l.hasIssuedAt(), l.getIssuedAt()),
                instant(l.hasExpiresAt(), l.getExpiresAt()), l.hasUserId() ? l.getUserId() : null);
    }

    private static StoredInstant instant(Instant i) {
        return StoredInstant.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    private static Instant instant(boolean present, StoredInstant i) {
        return present ? Instant.ofEpochSecond(i.getSeconds(), i.getNanos()) : null;
    }

    static <P extends Enum<P>> P toStored(Enum<?> value, String prefix, Class<P> stored) {
        return Enum.valueOf(stored, prefix + value.name());
    }

    static <E extends Enum<E>> E fromStored(String storedName, String prefix, Class<E> type) {
        if (!storedName.startsWith(prefix)) {
            throw new IllegalArgumentException("unknown " + type.getSimpleName() + " value " + storedName);
        }
        return Enum.valueOf(type, storedName.substring(prefix.length()));
    }
}
