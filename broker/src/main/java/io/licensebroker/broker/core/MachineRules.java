package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerEvent.MachineDeactivated;
import io.licensebroker.broker.core.LedgerEvent.MachineRegistered;
import io.licensebroker.broker.core.LedgerEvent.OfflineLicenseIssued;
import io.licensebroker.broker.core.LedgerEvent.SeatBound;
import io.licensebroker.broker.core.LedgerEvent.SeatUnbound;
import io.licensebroker.broker.core.LedgerEvent.SessionEnded;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The rules of machines and offline licenses: the machine list, deactivation (which ends the
 * machine's sessions) and issuing an offline license. Each checks, then hands its events to the
 * sink (the owning {@link AccountLedger}). Not thread-safe.
 */
final class MachineRules {
    private final String accountId;
    private final AccountConfiguration config;
    private final SessionTable sessions;
    private final Consumer<LedgerEvent> sink;

    MachineRules(AccountConfiguration config, SessionTable sessions, Consumer<LedgerEvent> sink) {
        this.accountId = config.accountId;
        this.config = config;
        this.sessions = sessions;
        this.sink = sink;
    }

    List<Machine> machines(String product, Instant now) {
        PoolBook book = config.bookOrNull(product);
        if (book == null) {
            return List.of();
        }
        config.pruneOffline(book, now);
        Map<String, Long> live = sessions.countByMachine(product);
        List<Machine> out = new ArrayList<>(book.machines.size());
        book.machines.forEach((id, reg) -> {
            OfflineLicense off = book.offlineOf(id);
            out.add(new Machine(id, product, reg.at(), live.getOrDefault(id, 0L), off == null ? null : off.expiresAt()));
        });
        return out;
    }

    /**
     * Unregisters a machine and ends its live sessions (as terminated). A machine bound to a live
     * offline license stays registered, since that license cannot be revoked. True when the
     * registration was removed or a session ended.
     */
    boolean deactivateMachine(String product, String machineId, Instant now) {
        PoolBook book = config.bookOrNull(product);
        // isRegistered: a ledger mirroring a shared store knows registrations from what the store counted.
        if (book == null || !book.isRegistered(machineId)) {
            return false;
        }
        config.pruneOffline(book, now);
        List<String> ending = sessions.idsOnMachine(product, machineId);
        for (String id : ending) {
            sink.accept(new SessionEnded(id, Reason.SESSION_TERMINATED, now));
        }
        if (book.offlineOf(machineId) != null) {
            // The offline license cannot be revoked: the machine and the seat it binds stay.
            return !ending.isEmpty();
        }
        // Node-locked seats bound to the machine are free to be activated elsewhere.
        List<String> unbinding = new ArrayList<>();
        book.seats.values().forEach(seat -> {
            if (machineId.equals(seat.machineId())) {
                unbinding.add(seat.userId());
            }
        });
        unbinding.forEach(user -> sink.accept(new SeatUnbound(product, user, now)));
        sink.accept(new MachineDeactivated(product, machineId, now));
        return true;
    }

    /**
     * Binds one account license to a machine until {@code expiresAt} (at most {@code maxLength}
     * ahead and never past the subscription's expiry).
     */
    Decision<OfflineLicense> issueOfflineLicense(String product, String machineId, String userId, Instant expiresAt,
                                                 Duration maxLength, Instant now) {
        PoolBook book = config.bookOrNull(product);
        if (book == null || book.subscription == null) {
            return Refusals.noSubscription(accountId, product);
        }
        if (book.model() == LicenseModel.FLOATING) {
            return Refusals.offlineOnFloating(product);
        }
        if (book.model() == LicenseModel.NODE_LOCKED && userId == null) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "a node-locked offline license binds a licensed user's seat: user_id is required", "user_id");
        }
        if (book.model() == LicenseModel.SESSION && userId != null) {
            return Decision.denied(Reason.INVALID_ARGUMENT, product + " is licensed per session: an offline license takes no user_id", "user_id");
        }
        if (book.subscription.isExpiredAt(now)) {
            return Refusals.subscriptionExpired(product, book.subscription.expiresAt());
        }
        if (!expiresAt.isAfter(now)) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "expires_at must be in the future: " + expiresAt, "expires_at");
        }
        if (expiresAt.isAfter(now.plus(maxLength))) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "expires_at is more than " + maxLength.toDays() + " days ahead: " + expiresAt, "expires_at");
        }
        if (expiresAt.isAfter(book.subscription.expiresAt())) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "expires_at " + expiresAt + " is past the subscription's expiry "
                    + book.subscription.expiresAt(), "expires_at");
        }
        config.pruneOffline(book, now);
        if (book.offlineOf(machineId) != null) {
            return Decision.denied(Reason.ALREADY_EXISTS, "machine " + machineId + " already holds a live offline license", "machine_id");
        }
        Seat seat = null;
        if (userId != null) {
            seat = book.seats.get(userId);
            if (config.user(userId) == null) {
                return Refusals.userNotFound(accountId, userId);
            }
            if (seat == null) {
                return Refusals.notLicensed(userId, product, "user_id");
            }
            if (seat.isBound() && !seat.machineId().equals(machineId)) {
                return Refusals.seatInUse(userId, product, seat.machineId(), false);
            }
        }
        boolean newMachine = !book.isRegistered(machineId);
        if (newMachine && book.registeredMachines() >= book.subscription.machineQuota()) {
            return Refusals.machineQuotaOnOffline(book.subscription.machineQuota());
        }
        // A seat's offline license uses the seat's license; a session product's takes one of the account's.
        if (seat == null && book.root.available() < 1) {
            return Decision.denied(Reason.INSUFFICIENT_LICENSES, "the account pool has no available license");
        }
        if (newMachine) {
            sink.accept(new MachineRegistered(product, machineId, now));
        }
        if (seat != null && !seat.isBound()) {
            sink.accept(new SeatBound(product, userId, AccountConfiguration.canonicalMachineId(book, machineId),
                    activationIdOfOffline(machineId), now));
        }
        OfflineLicense license = new OfflineLicense(accountId, product, machineId, now, expiresAt, userId);
        sink.accept(new OfflineLicenseIssued(license));
        return Decision.granted(license);
    }

    /** The binding an offline license makes has a stable id derived from its machine (no randomness in the rules). */
    static String activationIdOfOffline(String machineId) {
        return "AO-" + machineId;
    }
}
