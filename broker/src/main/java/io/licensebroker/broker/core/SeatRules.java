package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerEvent.MachineRegistered;
import io.licensebroker.broker.core.LedgerEvent.SeatBound;
import io.licensebroker.broker.core.LedgerEvent.SeatGranted;
import io.licensebroker.broker.core.LedgerEvent.SeatRemoved;
import io.licensebroker.broker.core.LedgerEvent.SessionEnded;
import io.licensebroker.broker.core.LedgerEvent.SessionStarted;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The rules of seats (CONTRACT.md section 5): grant, remove and transfer a seat, the licensed-user
 * listing, activation (a node-locked binding, or a floating lease with take-over) and the
 * activation listing. A seat is one license of its pool, so the pool arithmetic of
 * {@link AccountConfiguration} holds for seats as for sessions. Each rule checks, then hands its
 * events to the sink (the owning {@link AccountLedger}). Not thread-safe.
 */
final class SeatRules {
    private final String accountId;
    private final AccountConfiguration config;
    private final SessionTable sessions;
    private final Consumer<LedgerEvent> sink;

    SeatRules(AccountConfiguration config, SessionTable sessions, Consumer<LedgerEvent> sink) {
        this.accountId = config.accountId;
        this.config = config;
        this.sessions = sessions;
        this.sink = sink;
    }

    /**
     * The request key of a floating activation's lease: activations are idempotent per machine, and
     * the control character keeps it apart from every request id an agent may send.
     */
    static String leaseKey(String product, String machineId) {
        return "\u0001" + product + "\u0001" + machineId;
    }

    /** The seat product's book, or the refusal for a product without seats. */
    private Decision<PoolBook> seatBook(String product) {
        PoolBook book = config.bookOrNull(product);
        if (book == null || book.subscription == null) {
            return Refusals.noSubscription(accountId, product);
        }
        if (!book.model().isSeat()) {
            return Refusals.seatOnSessionProduct(product);
        }
        return Decision.granted(book);
    }

    Decision<LicensedUser> grant(String product, String userId, String poolId, Instant now) {
        Decision<PoolBook> found = seatBook(product);
        if (!(found instanceof Decision.Granted<PoolBook> g)) {
            return found.map(b -> null);
        }
        PoolBook book = g.value();
        User user = config.user(userId);
        if (user == null) {
            return Refusals.userNotFound(accountId, userId);
        }
        Seat held = book.seats.get(userId);
        if (held != null) {
            return Decision.granted(licensedUser(book, held, now));
        }
        String target = poolId != null ? poolId : AcquirePlan.homePool(accountId, user);
        Decision<Seat> seat = place(book, Seat.granted(accountId, product, userId, target, now), "pool_id", now);
        return seat.map(s -> new LicensedUser(s, null, true));
    }

    /** Checks that {@code seat}'s pool exists and has room, then grants it. */
    private Decision<Seat> place(PoolBook book, Seat seat, String field, Instant now) {
        String poolId = seat.poolId();
        if (!poolId.equals(accountId) && !config.orgs.contains(poolId)) {
            return Refusals.organizationNotFound(accountId, poolId, field);
        }
        config.pruneOffline(book, now);
        PoolBook.Pool pool = config.pool(book, poolId);
        if (pool.available() < 1) {
            return Refusals.noSeatAvailable(poolId, pool.available());
        }
        sink.accept(new SeatGranted(seat));
        return Decision.granted(seat);
    }

    Decision<Boolean> remove(String product, String userId, Instant now) {
        Decision<PoolBook> found = seatBook(product);
        if (!(found instanceof Decision.Granted<PoolBook> g)) {
            return found.map(b -> false);
        }
        PoolBook book = g.value();
        Seat seat = book.seats.get(userId);
        if (seat == null) {
            return Decision.granted(false);
        }
        Decision<Boolean> bound = offlineBound(book, seat, "user_id", now);
        if (bound != null) {
            return bound;
        }
        free(book, seat, now);
        return Decision.granted(true);
    }

    Decision<LicensedUser> transfer(String product, String fromUserId, String toUserId, String poolId, Instant now) {
        Decision<PoolBook> found = seatBook(product);
        if (!(found instanceof Decision.Granted<PoolBook> g)) {
            return found.map(b -> null);
        }
        PoolBook book = g.value();
        Seat seat = book.seats.get(fromUserId);
        if (seat == null) {
            return Refusals.notLicensed(fromUserId, product, "from_user_id");
        }
        if (config.user(toUserId) == null) {
            return Decision.denied(Reason.USER_NOT_FOUND, "no user " + toUserId + " in account " + accountId, "to_user_id");
        }
        if (book.seats.containsKey(toUserId)) {
            return Refusals.alreadyLicensed(toUserId, product, "to_user_id");
        }
        Decision<LicensedUser> bound = offlineBound(book, seat, "from_user_id", now);
        if (bound != null) {
            return bound;
        }
        String target = poolId != null ? poolId : seat.poolId();
        if (!target.equals(accountId) && !config.orgs.contains(target)) {
            return Refusals.organizationNotFound(accountId, target, "pool_id");
        }
        // The freed license counts for the target when it is the seat's own pool.
        PoolBook.Pool pool = config.pool(book, target);
        long room = pool.available() + (target.equals(seat.poolId()) ? 1 : 0);
        if (room < 1) {
            return Refusals.noSeatAvailable(target, pool.available());
        }
        free(book, seat, now);
        Seat moved = Seat.granted(accountId, product, toUserId, target, now);
        sink.accept(new SeatGranted(moved));
        return Decision.granted(licensedUser(book, moved, now));
    }

    /** The refusal for a seat an offline license binds, else null. */
    private <T> Decision<T> offlineBound(PoolBook book, Seat seat, String field, Instant now) {
        config.pruneOffline(book, now);
        if (seat.isBound()) {
            OfflineLicense off = book.seatOffline.get(seat.machineId());
            if (off != null && off.userId().equals(seat.userId())) {
                return Refusals.offlineBound(seat.userId(), seat.product(), seat.machineId(), off.expiresAt(), field);
            }
        }
        return null;
    }

    /** Ends the seat's floating activation, then frees the seat. */
    private void free(PoolBook book, Seat seat, Instant now) {
        String lease = book.leaseOfUser.get(seat.userId());
        if (lease != null) {
            sink.accept(new SessionEnded(lease, Reason.SESSION_TERMINATED, now));
        }
        sink.accept(new SeatRemoved(seat.product(), seat.userId(), now));
    }

    Page<LicensedUser> licensedUsers(SeatQuery q, Instant now) {
        PoolBook book = config.bookOrNull(q.product());
        List<LicensedUser> out = new ArrayList<>();
        if (book == null) {
            return new Page<>(out, null);
        }
        config.pruneOffline(book, now);
        var tail = q.pageToken() == null ? book.seats : book.seats.tailMap(q.pageToken(), false);
        String last = null;
        for (Seat seat : tail.values()) {
            if (q.poolId() != null && !q.poolId().equals(seat.poolId())) {
                continue;
            }
            if (out.size() == q.pageSize()) {
                return new Page<>(out, last);
            }
            out.add(licensedUser(book, seat, now));
            last = seat.userId();
        }
        return new Page<>(out, null);
    }

    private static LicensedUser licensedUser(PoolBook book, Seat seat, Instant now) {
        OfflineLicense off = seat.isBound() ? book.seatOffline.get(seat.machineId()) : null;
        boolean binds = off != null && off.userId().equals(seat.userId()) && off.isLiveAt(now);
        return new LicensedUser(seat, binds ? off.expiresAt() : null);
    }

    /**
     * What an activation of {@code userId} draws on, for every kind of store: the subscription
     * (not expired), the product's seat model, the user and their seat; or the refusal.
     */
    Decision<Seat> activatable(String product, String userId, Instant now) {
        Decision<PoolBook> found = seatBook(product);
        if (!(found instanceof Decision.Granted<PoolBook> g)) {
            return found.map(b -> null);
        }
        PoolBook book = g.value();
        if (book.subscription.isExpiredAt(now)) {
            return Refusals.subscriptionExpired(product, book.subscription.expiresAt());
        }
        if (config.user(userId) == null) {
            return Refusals.unknownAgentUser(accountId, userId);
        }
        Seat seat = book.seats.get(userId);
        return seat == null ? Refusals.notLicensed(userId, product, null) : Decision.granted(seat);
    }

    Decision<Activation> activate(ActivationRequest r) {
        Decision<Seat> found = activatable(r.product(), r.userId(), r.now());
        if (!(found instanceof Decision.Granted<Seat> g)) {
            return found.map(s -> null);
        }
        Seat seat = g.value();
        PoolBook book = config.bookOrNull(r.product());
        if (book.model() == LicenseModel.NODE_LOCKED) {
            if (seat.isBound()) {
                return seat.machineId().equals(r.machineId()) ? Decision.granted(Activation.ofBinding(seat))
                        : Refusals.seatInUse(r.userId(), r.product(), seat.machineId(), false);
            }
            Decision<Boolean> machine = registerIfNew(book, r.machineId(), r.now(), false);
            if (!machine.isGranted()) {
                return machine.map(x -> null);
            }
            Seat bound = seat.boundTo(AccountConfiguration.canonicalMachineId(book, r.machineId()), r.newActivationId(), r.now());
            sink.accept(new SeatBound(r.product(), r.userId(), bound.machineId(), bound.activationId(), r.now()));
            return Decision.granted(Activation.ofBinding(bound));
        }
        Session holder = sessions.get(book.leaseOfUser.getOrDefault(r.userId(), ""));
        if (holder != null && !r.now().isBefore(holder.leaseExpiresAt())) {
            // A lease that ran out frees the seat now, not at the reaper's next pass.
            sink.accept(new SessionEnded(holder.id(), Reason.SESSION_EXPIRED, r.now()));
            holder = null;
        }
        if (holder != null && holder.machineId().equals(r.machineId())) {
            return Decision.granted(Activation.ofLease(holder));
        }
        if (holder != null && !r.takeOver()) {
            return Refusals.seatInUse(r.userId(), r.product(), holder.machineId(), true);
        }
        boolean newMachine = !book.isRegistered(r.machineId());
        if (newMachine && book.registeredMachines() >= book.subscription.machineQuota()) {
            return Refusals.machineQuotaOnAcquire(book.subscription.machineQuota());
        }
        if (holder != null) {
            sink.accept(new SessionEnded(holder.id(), Reason.SESSION_TERMINATED, r.now()));
        }
        registerIfNew(book, r.machineId(), r.now(), true);
        Session lease = new Session(r.newActivationId(), accountId, book.product, r.userId(),
                AccountConfiguration.canonicalMachineId(book, r.machineId()), seat.poolId(), false,
                leaseKey(book.product, r.machineId()), r.now(), r.leaseExpiresAt());
        sink.accept(new SessionStarted(lease));
        return Decision.granted(Activation.ofLease(lease));
    }

    /** Registers a new machine within the quota ({@code checked}: the quota was checked already). */
    private Decision<Boolean> registerIfNew(PoolBook book, String machineId, Instant now, boolean checked) {
        if (book.isRegistered(machineId)) {
            return Decision.granted(false);
        }
        if (!checked && book.registeredMachines() >= book.subscription.machineQuota()) {
            return Refusals.machineQuotaOnAcquire(book.subscription.machineQuota());
        }
        sink.accept(new MachineRegistered(book.product, machineId, now));
        return Decision.granted(true);
    }

    Page<Activation> activations(SeatQuery q, Instant now) {
        PoolBook book = config.bookOrNull(q.product());
        List<Activation> leases = new ArrayList<>();
        if (book != null) {
            for (String leaseId : book.leaseOfUser.values()) {
                Session lease = sessions.get(leaseId);
                if (lease != null && now.isBefore(lease.leaseExpiresAt())) {
                    leases.add(Activation.ofLease(lease));
                }
            }
        }
        return activations(q, leases);
    }

    /**
     * The node-locked bindings of the product's seats and the live floating activations among
     * {@code leases} (of seats held), filtered by the query's user, in activation id order.
     */
    Page<Activation> activations(SeatQuery q, List<Activation> leases) {
        PoolBook book = config.bookOrNull(q.product());
        if (book == null) {
            return new Page<>(List.of(), null);
        }
        TreeMap<String, Activation> all = new TreeMap<>();
        for (Seat seat : book.seats.values()) {
            if (seat.isBound() && (q.userId() == null || q.userId().equals(seat.userId()))) {
                all.put(seat.activationId(), Activation.ofBinding(seat));
            }
        }
        for (Activation lease : leases) {
            if (book.seats.containsKey(lease.userId()) && (q.userId() == null || q.userId().equals(lease.userId()))) {
                all.put(lease.activationId(), lease);
            }
        }
        var tail = q.pageToken() == null ? all : all.tailMap(q.pageToken(), false);
        List<Activation> out = new ArrayList<>();
        for (Activation a : tail.values()) {
            if (out.size() == q.pageSize()) {
                return new Page<>(out, out.get(out.size() - 1).activationId());
            }
            out.add(a);
        }
        return new Page<>(out, null);
    }
}
