package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A fact that changed an account's state. Applying the same events in the same order to an empty
 * {@link AccountLedger} rebuilds the same state: this is what the embedded store journals and
 * what its snapshots contain. Applying never checks rules: the checks ran when the event was made.
 */
public sealed interface LedgerEvent {

    record AccountCreated(Account account) implements LedgerEvent {
    }

    record CredentialAdded(Credential credential) implements LedgerEvent {
    }

    /** The credential stops working; its record is kept (see {@link AccountLedger#everHadCredentials}). */
    record CredentialRevoked(String lookupId) implements LedgerEvent {
    }

    record SubscriptionSet(Subscription subscription) implements LedgerEvent {
    }

    record OrganizationCreated(Organization organization) implements LedgerEvent {
    }

    /** 0 revokes the subtree and moves its live sessions to the organization's parent. */
    record DedicatedSet(String orgId, String product, long licenses) implements LedgerEvent {
    }

    record UserUpserted(User user) implements LedgerEvent {
    }

    record PolicySet(PolicySettings settings) implements LedgerEvent {
    }

    record MachineRegistered(String product, String machineId, Instant at) implements LedgerEvent {
    }

    /** Unregisters the machine and ends its live sessions as TERMINATED. */
    record MachineDeactivated(String product, String machineId, Instant at) implements LedgerEvent {
    }

    record SessionStarted(Session session) implements LedgerEvent {
    }

    /** {@code cause} is null for a release by the agent itself. */
    record SessionEnded(String sessionId, Reason cause, Instant at) implements LedgerEvent {
    }

    record OfflineLicenseIssued(OfflineLicense license) implements LedgerEvent {
    }

    /** The license of the machine passed its expiry and stops counting against the account. */
    record OfflineLicenseExpired(String product, String machineId, Instant at) implements LedgerEvent {
    }

    /**
     * A seat of a seat product given to a user; in a snapshot or a shared store's configuration it
     * carries the seat's binding too.
     */
    record SeatGranted(Seat seat) implements LedgerEvent {
    }

    /** The seat is freed (its pool gets the license back); the ledger ends its lease separately. */
    record SeatRemoved(String product, String userId, Instant at) implements LedgerEvent {
    }

    /** A node-locked seat bound to a machine (its activation). */
    record SeatBound(String product, String userId, String machineId, String activationId, Instant at) implements LedgerEvent {
    }

    /** A node-locked seat's binding ends (its machine was deactivated). */
    record SeatUnbound(String product, String userId, Instant at) implements LedgerEvent {
    }

    /**
     * A closed minute of the account's usage history (starting at {@code minuteMillis}): the
     * bucket of every pool whose in_use changed or that was charged a denial in it, and who was
     * denied. Replaying it rolls the minute up into the hour and day buckets.
     */
    record UsageRecorded(long minuteMillis, List<HistoryBucket> buckets, List<DenialCount> denials)
            implements LedgerEvent {
        public UsageRecorded {
            buckets = List.copyOf(buckets);
            denials = List.copyOf(denials);
        }
    }

    /** A snapshot's copy of recorded history at one step, restored as it is (not rolled up again). */
    record HistoryRestored(HistoryStep step, List<HistoryBucket> buckets, List<DenialCount> denials)
            implements LedgerEvent {
        public HistoryRestored {
            Objects.requireNonNull(step, "step");
            buckets = List.copyOf(buckets);
            denials = List.copyOf(denials);
        }
    }
}
