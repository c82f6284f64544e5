package io.licensebroker.broker.store.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.DenialCount;
import io.licensebroker.broker.core.HistoryBucket;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;
import io.licensebroker.broker.store.memory.proto.JournalRecord;
import io.licensebroker.broker.store.memory.proto.StoredSubscription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

final class JournalCodecTest {

    private static final Instant AT = Instant.parse("2026-03-01T10:15:30.123456789Z");
    /** Before the epoch with nanos: seconds negative, nanos positive. */
    private static final Instant BEFORE_EPOCH = Instant.ofEpochSecond(-5, 999_999_999);

    /** Every event kind, with every nullable field both set and null, and lists empty and not. */
    static Stream<LedgerEvent> events() {
        return Stream.of(
                new LedgerEvent.AccountCreated(new Account("acme", "ACME Corp")),
                new LedgerEvent.AccountCreated(new Account("", "")),
                new LedgerEvent.CredentialAdded(new Credential("lk-1", new byte[] {1, 2, 3}, new byte[] {9, 8, 7, 6},
                        Role.AGENT, "acme", "alice")),
                new LedgerEvent.CredentialAdded(new Credential("lk-2", new byte[0], new byte[0], Role.SUPER_ADMIN, null, null)),
                new LedgerEvent.CredentialAdded(new Credential("lk-3", new byte[] {0}, new byte[] {-1}, Role.ACCOUNT_ADMIN, "", null)),
                new LedgerEvent.CredentialAdded(new Credential("lk-4", new byte[] {4}, new byte[] {5}, Role.ORGANIZATION_ADMIN, "acme", null, "OG-7")),
                new LedgerEvent.CredentialRevoked("lk-1"),
                new LedgerEvent.SubscriptionSet(new Subscription("acme", "KRE", 100, 50, AT)),
                new LedgerEvent.SubscriptionSet(new Subscription("acme", "KRE", 0, 0, BEFORE_EPOCH)),
                new LedgerEvent.SubscriptionSet(new Subscription("acme", "KRE", Long.MAX_VALUE, Long.MAX_VALUE, Instant.MAX)),
                new LedgerEvent.OrganizationCreated(new Organization("OG-1", "acme", null, "Engineering")),
                new LedgerEvent.OrganizationCreated(new Organization("OG-2", "acme", "OG-1", "Backend")),
                new LedgerEvent.OrganizationCreated(new Organization("OG-3", "acme", "", "Empty parent is not null")),
                new LedgerEvent.DedicatedSet("OG-1", "KRE", 7),
                new LedgerEvent.DedicatedSet("OG-1", "KRE", 0),
                new LedgerEvent.DedicatedSet(null, null, -1),
                new LedgerEvent.UserUpserted(new User("acme", "alice", "OG-1", List.of("OG-2", "OG-3"))),
                new LedgerEvent.UserUpserted(new User("acme", "bob", null, List.of())),
                new LedgerEvent.UserUpserted(new User("acme", "carol", "", List.of(""))),
                new LedgerEvent.PolicySet(PolicySettings.DEFAULT),
                new LedgerEvent.PolicySet(new PolicySettings(UsagePolicy.STRICT, false)),
                new LedgerEvent.MachineRegistered("KRE", "m-1", AT),
                new LedgerEvent.MachineRegistered(null, null, null),
                new LedgerEvent.MachineDeactivated("KRE", "m-1", BEFORE_EPOCH),
                new LedgerEvent.MachineDeactivated(null, "", null),
                new LedgerEvent.OfflineLicenseExpired("KRE", "m-1", BEFORE_EPOCH),
                new LedgerEvent.OfflineLicenseExpired(null, "", null),
                new LedgerEvent.SessionStarted(new Session("s-1", "acme", "KRE", "alice", "m-1", "OG-1", false, "req-1",
                        AT, AT.plusSeconds(60))),
                new LedgerEvent.SessionStarted(new Session("s-2", "acme", "KRE", "bob", "m-2", "acme", true, "",
                        Instant.EPOCH, Instant.EPOCH)),
                new LedgerEvent.SessionEnded("s-1", Reason.SESSION_EXPIRED, AT),
                new LedgerEvent.SessionEnded("s-2", null, AT),
                new LedgerEvent.SessionEnded(null, null, null),
                new LedgerEvent.OfflineLicenseIssued(new OfflineLicense("acme", "KRE", "m-3", AT, AT.plusSeconds(86_400))),
                new LedgerEvent.OfflineLicenseIssued(new OfflineLicense(null, null, null, null, null)),
                new LedgerEvent.OfflineLicenseIssued(new OfflineLicense("acme", "KSE", "m-4", AT, AT.plusSeconds(60), "alice")),
                new LedgerEvent.SubscriptionSet(new Subscription("acme", "KSE", 5, 5, AT, LicenseModel.NODE_LOCKED)),
                new LedgerEvent.SubscriptionSet(new Subscription("acme", "TESTOPS", 5, 5, AT, LicenseModel.FLOATING)),
                new LedgerEvent.SeatGranted(Seat.granted("acme", "KSE", "alice", "OG-1", AT)),
                new LedgerEvent.SeatGranted(Seat.granted("acme", "KSE", "bob", "acme", BEFORE_EPOCH).boundTo("m-1", "a-1", AT)),
                new LedgerEvent.SeatRemoved("KSE", "alice", AT),
                new LedgerEvent.SeatBound("KSE", "bob", "m-1", "a-1", BEFORE_EPOCH),
                new LedgerEvent.SeatUnbound("KSE", "bob", AT),
                new LedgerEvent.UsageRecorded(AT.toEpochMilli(), List.of(
                        new HistoryBucket("KRE", "OG-1", 60_000, 3, 7, 5, 4, Map.of(Reason.NO_LICENSE_AVAILABLE, 2L, Reason.SEAT_IN_USE, 1L)),
                        new HistoryBucket("KRE", "acme", -60_000, 0, 0, 0, 0, Map.of())),
                        List.of(new DenialCount("KRE", "OG-1", "alice", Reason.NO_LICENSE_AVAILABLE, 60_000, 2, 61_234))),
                new LedgerEvent.UsageRecorded(0, List.of(), List.of()),
                new LedgerEvent.HistoryRestored(HistoryStep.DAY, List.of(new HistoryBucket("KSE", "acme", 0, 1, 2, 1, 3, Map.of())), List.of()),
                new LedgerEvent.HistoryRestored(HistoryStep.HOUR, List.of(),
                        List.of(new DenialCount("KRE", "acme", "*", Reason.STORE_RECOVERING, 3_600_000, 9, 3_600_001))));
    }

    @Test
    void theEventsCoverEveryKind() {
        Set<Class<?>> covered = events().map(Object::getClass).collect(Collectors.toSet());
        assertEquals(Set.of(LedgerEvent.class.getPermittedSubclasses()), covered);
    }

    @ParameterizedTest
    @MethodSource("events")
    void everyEventRoundTripsThroughAFrame(LedgerEvent event) throws InvalidProtocolBufferException {
        byte[] frame = JournalCodec.frame(JournalCodec.event("acme", 42, event));

        JournalRecord back = JournalRecord.parseFrom(payloadOf(frame));

        assertEquals("acme", back.getAccountId());
        assertEquals(42, back.getSeq());
        assertTrue(JournalCodec.isEvent(back));
        assertSameEvent(event, JournalCodec.event(back));
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void everyRoleRoundTrips(Role role) {
        boolean orgAdmin = role == Role.ORGANIZATION_ADMIN;
        LedgerEvent event = new LedgerEvent.CredentialAdded(new Credential("lk", new byte[] {1}, new byte[] {2}, role,
                orgAdmin ? "acme" : null, null, orgAdmin ? "OG-1" : null));
        assertSameEvent(event, roundTrip(event));
    }

    /** A credential journaled before organization admins existed (no org_id) still decodes, with no organization. */
    @Test
    void aCredentialWrittenWithoutAnOrganizationDecodes() throws InvalidProtocolBufferException {
        LedgerEvent old = new LedgerEvent.CredentialAdded(new Credential("lk", new byte[] {1}, new byte[] {2}, Role.ACCOUNT_ADMIN, "acme", null));
        JournalRecord record = JournalRecord.parseFrom(payloadOf(JournalCodec.frame(JournalCodec.event("acme", 1, old))));
        assertFalse(record.getCredentialAdded().hasOrgId());
        LedgerEvent back = JournalCodec.event(record);
        assertNull(((LedgerEvent.CredentialAdded) back).credential().orgId());
        assertSameEvent(old, back);
    }

    @ParameterizedTest
    @EnumSource(UsagePolicy.class)
    void everyUsagePolicyRoundTrips(UsagePolicy policy) {
        for (boolean fallback : new boolean[] {true, false}) {
            LedgerEvent event = new LedgerEvent.PolicySet(new PolicySettings(policy, fallback));
            assertEquals(event, roundTrip(event));
        }
    }

    @ParameterizedTest
    @EnumSource(Reason.class)
    void everyReasonRoundTrips(Reason reason) {
        LedgerEvent event = new LedgerEvent.SessionEnded("s-1", reason, AT);
        assertEquals(event, roundTrip(event));
    }

    @Test
    void enumsAreStoredByNameNotOrdinal() {
        // The stored numbers follow journal.proto, whatever order the Java enums are in.
        JournalRecord r = JournalCodec.event("a", 1, new LedgerEvent.SessionEnded("s", Reason.MACHINE_NOT_FOUND, AT));
        assertEquals("REASON_MACHINE_NOT_FOUND", r.getSessionEnded().getCause().name());
        assertEquals(17, r.getSessionEnded().getCause().getNumber());
    }

    @Test
    void frameIsLengthThenCrc32cThenPayload() {
        JournalRecord record = JournalCodec.event("acme", 7, new LedgerEvent.DedicatedSet("OG-1", "KRE", 3));
        byte[] frame = JournalCodec.frame(record);

        ByteBuffer header = ByteBuffer.wrap(frame, 0, JournalCodec.HEADER_BYTES);
        int length = header.getInt();
        int crc = header.getInt();

        assertEquals(record.getSerializedSize(), length);
        assertEquals(JournalCodec.HEADER_BYTES + length, frame.length);
        assertArrayEquals(record.toByteArray(), payloadOf(frame));
        CRC32C expected = new CRC32C();
        expected.update(record.toByteArray());
        assertEquals((int) expected.getValue(), crc);

        frame[frame.length - 1] ^= 1;
        assertNotEquals(crc, JournalCodec.crc(frame, JournalCodec.HEADER_BYTES, length));
    }

    @Test
    void checkpointAndSnapshotEndAreNotEvents() {
        JournalRecord checkpoint = JournalCodec.checkpoint("acme", 99);
        JournalRecord end = JournalCodec.snapshotEnd(3, 5);

        assertEquals(JournalRecord.KindCase.CHECKPOINT, checkpoint.getKindCase());
        assertEquals("acme", checkpoint.getAccountId());
        assertEquals(99, checkpoint.getSeq());
        assertEquals(3, end.getSnapshotEnd().getAccounts());
        assertEquals(5, end.getSnapshotEnd().getGeneration());
        assertFalse(JournalCodec.isEvent(checkpoint));
        assertFalse(JournalCodec.isEvent(end));
        assertThrows(IllegalArgumentException.class, () -> JournalCodec.event(checkpoint));
        assertThrows(IllegalArgumentException.class, () -> JournalCodec.event(JournalRecord.getDefaultInstance()));
    }

    @Test
    void aRecordMissingARequiredFieldIsRejected() {
        JournalRecord noExpiry = JournalRecord.newBuilder().setAccountId("acme").setSeq(1)
                .setSubscriptionSet(StoredSubscription.newBuilder().setAccountId("acme").setProduct("KRE")).build();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JournalCodec.event(noExpiry));
        assertTrue(e.getMessage().contains("SUBSCRIPTION_SET"), e.getMessage());
    }

    @Test
    void nullsStayNullAndEmptyStringsStayEmpty() {
        LedgerEvent.UserUpserted nulls = (LedgerEvent.UserUpserted) roundTrip(
                new LedgerEvent.UserUpserted(new User("acme", "bob", null, List.of())));
        LedgerEvent.UserUpserted empty = (LedgerEvent.UserUpserted) roundTrip(
                new LedgerEvent.UserUpserted(new User("acme", "bob", "", List.of())));

        assertNull(nulls.user().assignedOrgId());
        assertEquals(List.of(), nulls.user().projectOrgIds());
        assertEquals("", empty.user().assignedOrgId());
    }

    // ---------------------------------------------------------------- helpers

    private static LedgerEvent roundTrip(LedgerEvent event) {
        try {
            return JournalCodec.event(JournalRecord.parseFrom(payloadOf(JournalCodec.frame(JournalCodec.event("a", 1, event)))));
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] payloadOf(byte[] frame) {
        return Arrays.copyOfRange(frame, JournalCodec.HEADER_BYTES, frame.length);
    }

    /** Equality of events, comparing a credential's byte arrays by content (records compare them by identity). */
    static void assertSameEvent(LedgerEvent expected, LedgerEvent actual) {
        if (expected instanceof LedgerEvent.CredentialAdded e && actual instanceof LedgerEvent.CredentialAdded a) {
            Credential x = e.credential();
            Credential y = a.credential();
            assertEquals(x.lookupId(), y.lookupId());
            assertArrayEquals(x.salt(), y.salt());
            assertArrayEquals(x.secretHash(), y.secretHash());
            assertEquals(x.role(), y.role());
            assertEquals(x.accountId(), y.accountId());
            assertEquals(x.userId(), y.userId());
            assertEquals(x.orgId(), y.orgId());
        } else {
            assertEquals(expected, actual);
        }
    }
}
