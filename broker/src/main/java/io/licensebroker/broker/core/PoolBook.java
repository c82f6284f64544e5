package io.licensebroker.broker.core;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The pools, machines and offline licenses of one product of one account: the arithmetic every
 * rule about licenses stands on ({@code pool = dedicated - allocated}, {@code available = pool -
 * inUse}). Not thread-safe; owned by its {@link AccountLedger}.
 *
 * <p>A ledger that mirrors a shared store's configuration holds no sessions or machines of its own:
 * the store tells it what it counted ({@link #observe}), and the rules then decide from those counts.
 */
final class PoolBook {
    /** The one instance of the product code every session of this book refers to. */
    final String product;
    Subscription subscription;
    final Pool root;
    final Map<String, Pool> pools = new HashMap<>();
    /** Organization pools with available > 0, in organization creation order. */
    final TreeMap<Integer, Pool> roomyOrgs = new TreeMap<>();
    /** Registered machines by id. */
    final LinkedHashMap<String, Registration> machines = new LinkedHashMap<>();
    /** Live offline licenses that take an account license (session products), by machine id. */
    final Map<String, OfflineLicense> offline = new LinkedHashMap<>();
    /** Live offline licenses that bind a node-locked seat (they take no license of their own), by machine id. */
    final Map<String, OfflineLicense> seatOffline = new LinkedHashMap<>();
    /** Seats by user id (id order: the licensed-user listing pages by it). */
    final TreeMap<String, Seat> seats = new TreeMap<>();
    /** The live activation (session id) of each floating seat in use, by user id. */
    final Map<String, String> leaseOfUser = new HashMap<>();
    /** What a shared store counted: registered machines and, of the machines asked about, those registered (null: own). */
    private long observedMachines = -1;
    private Set<String> observedRegistered = Set.of();

    PoolBook(String product, String accountId) {
        this.product = product;
        root = new Pool(accountId, -1);
        pools.put(accountId, root);
    }

    /** A registered machine; {@code machineId} is the one instance every session on it refers to. */
    record Registration(String machineId, java.time.Instant at) {
    }

    static final class Pool {
        final String id;
        /** Organization creation order; -1 for the account pool. */
        final int ordinal;
        long dedicated;
        long allocated;
        /** Live sessions or seats drawing from the pool (a product has one kind or the other). */
        long inUse;
        /** The seats among {@link #inUse}: what a shared store's count of live sessions leaves out. */
        long seats;
        /** Its usage history; null until something is recorded. */
        PoolHistory history;

        Pool(String id, int ordinal) {
            this.id = id;
            this.ordinal = ordinal;
        }

        long pool() {
            return dedicated - allocated;
        }

        long available() {
            return pool() - inUse;
        }
    }

    LicenseModel model() {
        return subscription == null ? LicenseModel.SESSION : subscription.model();
    }

    /** The live offline license of the machine, of either kind, or null. */
    OfflineLicense offlineOf(String machineId) {
        OfflineLicense l = offline.get(machineId);
        return l != null ? l : seatOffline.get(machineId);
    }

    boolean isRegistered(String machineId) {
        return observedMachines >= 0 ? observedRegistered.contains(machineId) : machines.containsKey(machineId);
    }

    long registeredMachines() {
        return observedMachines >= 0 ? observedMachines : machines.size();
    }

    void observeMachines(long registered, Set<String> registeredAmongAsked) {
        observedMachines = registered;
        observedRegistered = Set.copyOf(registeredAmongAsked);
    }

    /** Keeps {@link #roomyOrgs} in step with a pool whose counts changed. */
    void touch(Pool p) {
        if (p.ordinal < 0) {
            return;
        }
        if (p.available() > 0) {
            roomyOrgs.put(p.ordinal, p);
        } else {
            roomyOrgs.remove(p.ordinal);
        }
    }
}
