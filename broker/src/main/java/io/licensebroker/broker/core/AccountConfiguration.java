package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerEvent.AccountCreated;
import io.licensebroker.broker.core.LedgerEvent.CredentialAdded;
import io.licensebroker.broker.core.LedgerEvent.CredentialRevoked;
import io.licensebroker.broker.core.LedgerEvent.DedicatedSet;
import io.licensebroker.broker.core.LedgerEvent.MachineDeactivated;
import io.licensebroker.broker.core.LedgerEvent.MachineRegistered;
import io.licensebroker.broker.core.LedgerEvent.OfflineLicenseExpired;
import io.licensebroker.broker.core.LedgerEvent.OfflineLicenseIssued;
import io.licensebroker.broker.core.LedgerEvent.OrganizationCreated;
import io.licensebroker.broker.core.LedgerEvent.PolicySet;
import io.licensebroker.broker.core.LedgerEvent.SeatBound;
import io.licensebroker.broker.core.LedgerEvent.SeatGranted;
import io.licensebroker.broker.core.LedgerEvent.SeatRemoved;
import io.licensebroker.broker.core.LedgerEvent.SeatUnbound;
import io.licensebroker.broker.core.LedgerEvent.SubscriptionSet;
import io.licensebroker.broker.core.LedgerEvent.UserUpserted;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The configuration of one account and its rules: account, credentials, policy, organizations,
 * users, subscriptions, dedicated licenses, and per product the {@link PoolBook} (pools, machines,
 * offline licenses) every license rule stands on. A rule checks, then hands its events to the
 * sink (the owning {@link AccountLedger}, which journals them and applies them back here through
 * {@link #apply}). Not thread-safe.
 */
final class AccountConfiguration {

    final String accountId;
    private final Consumer<LedgerEvent> sink;

    Account account;
    PolicySettings policy = PolicySettings.DEFAULT;
    private final List<Credential> credentials = new ArrayList<>();
    /** Revoked credentials, kept so that a snapshot replays their history (and "ever had" stays true). */
    private final List<Credential> revoked = new ArrayList<>();
    final OrgTree orgs;
    private final Map<String, User> users = new LinkedHashMap<>();
    private final Map<String, PoolBook> books = new HashMap<>();
    /** Made once: a capturing lambda built per call would allocate on every acquire. */
    private final Function<String, PoolBook> newBook;
    private final Function<String, PoolBook.Pool> newOrgPool;
    /** Sees every change of a pool's in_use. */
    final UsageHistory history;

    AccountConfiguration(String accountId, Consumer<LedgerEvent> sink) {
        this.accountId = accountId;
        this.sink = sink;
        this.history = new UsageHistory(this, sink);
        this.orgs = new OrgTree(accountId);
        this.newBook = p -> new PoolBook(p, accountId);
        this.newOrgPool = id -> new PoolBook.Pool(id, orgs.ordinal(id));
    }

    // ---------------------------------------------------------------- rules

    void create(Account newAccount) {
        if (!newAccount.id().equals(accountId)) {
            throw new IllegalArgumentException("account id " + newAccount.id() + " does not belong to ledger " + accountId);
        }
        sink.accept(new AccountCreated(newAccount));
    }

    List<Credential> credentials() {
        return List.copyOf(credentials);
    }

    Decision<Credential> revokeCredential(String lookupId) {
        for (Credential c : credentials) {
            if (c.lookupId().equals(lookupId)) {
                sink.accept(new CredentialRevoked(lookupId));
                return Decision.granted(c);
            }
        }
        return Refusals.credentialNotFound(lookupId);
    }

    boolean everHadCredentials() {
        return !credentials.isEmpty() || !revoked.isEmpty();
    }

    Decision<Subscription> setSubscription(String product, long licenses, long machineQuota, Instant expiresAt,
                                           LicenseModel model, Instant now) {
        PoolBook book = book(product);
        pruneOffline(book, now);
        if (book.subscription != null && book.model() != model) {
            long inUse = 0;
            for (PoolBook.Pool p : book.pools.values()) {
                inUse += p.inUse;
            }
            if (inUse > 0) {
                return Refusals.modelChangeInUse(product, book.model(), model, inUse);
            }
        }
        long floor = book.root.allocated + book.root.inUse + book.offline.size();
        if (book.subscription != null && licenses < floor) {
            return Decision.denied(Reason.BELOW_IN_USE,
                    "licenses " + licenses + " is below what is allocated, in use and offline (" + floor + ")", "licenses");
        }
        Subscription s = new Subscription(accountId, product, licenses, machineQuota, expiresAt, model);
        sink.accept(new SubscriptionSet(s));
        return Decision.granted(s);
    }

    Decision<Organization> createOrganization(String orgId, String parentId, String name) {
        if (orgs.contains(orgId)) {
            return Decision.denied(Reason.ALREADY_EXISTS, "organization " + orgId + " already exists", "org_id");
        }
        if (parentId != null && !orgs.contains(parentId)) {
            return Refusals.organizationNotFound(accountId, parentId, "parent_id");
        }
        Organization org = new Organization(orgId, accountId, parentId, name);
        sink.accept(new OrganizationCreated(org));
        return Decision.granted(org);
    }

    List<Organization> organizations() {
        List<Organization> out = new ArrayList<>(orgs.size());
        orgs.forEachPreorder(out::add);
        return out;
    }

    Decision<LicenseUsage> setDedicated(String orgId, String product, long licenses, Instant now) {
        Organization org = orgs.get(orgId);
        if (org == null) {
            return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + orgId, "org_id");
        }
        PoolBook book = book(product);
        pruneOffline(book, now);
        PoolBook.Pool pool = orgPool(book, orgId);
        PoolBook.Pool parent = parentPool(book, org);
        long current = pool.dedicated;
        if (licenses > current) {
            long increase = licenses - current;
            if (increase > parent.available()) {
                return Decision.denied(Reason.INSUFFICIENT_LICENSES, "cannot add " + increase + " licenses to " + orgId
                        + ": " + OrgTree.parentName(org) + " has " + Math.max(0, parent.available()) + " available", "licenses");
            }
        } else if (licenses > 0 && licenses < current && licenses < pool.inUse + pool.allocated) {
            return Decision.denied(Reason.BELOW_IN_USE, "cannot reduce " + orgId + " to " + licenses + ": "
                    + pool.inUse + " in use and " + pool.allocated + " allocated to sub-organizations", "licenses");
        }
        if (licenses != current) {
            sink.accept(new DedicatedSet(orgId, product, licenses));
        }
        return Decision.granted(usage(product, now));
    }

    Decision<User> upsertUser(String userId, String assignedOrgId, List<String> projectOrgIds) {
        if (assignedOrgId != null && !orgs.contains(assignedOrgId)) {
            return Refusals.organizationNotFound(accountId, assignedOrgId, "assigned_org_id");
        }
        Set<String> projects = new LinkedHashSet<>(projectOrgIds);
        for (String org : projects) {
            if (!orgs.contains(org)) {
                return Refusals.organizationNotFound(accountId, org, "project_org_ids");
            }
        }
        User user = new User(accountId, userId, assignedOrgId, List.copyOf(projects));
        sink.accept(new UserUpserted(user));
        return Decision.granted(user);
    }

    User user(String userId) {
        return users.get(userId);
    }

    List<User> users() {
        return List.copyOf(users.values());
    }

    /**
     * Offline licenses past their expiry stop counting. Journaled as a fact like any other change,
     * so a replay reaches exactly the state whose room later grants relied on.
     */
    void pruneOffline(PoolBook book, Instant now) {
        if (book.offline.isEmpty() && book.seatOffline.isEmpty()) {
            return;
        }
        List<OfflineLicense> expired = new ArrayList<>();
        for (OfflineLicense l : book.offline.values()) {
            if (!l.isLiveAt(now)) {
                expired.add(l);
            }
        }
        for (OfflineLicense l : book.seatOffline.values()) {
            if (!l.isLiveAt(now)) {
                expired.add(l);
            }
        }
        for (OfflineLicense l : expired) {
            sink.accept(new OfflineLicenseExpired(l.product(), l.machineId(), now));
        }
    }

    // ---------------------------------------------------------------- pools

    /** The product's book, or null when the account has no state for it. */
    PoolBook bookOrNull(String product) {
        return books.get(product);
    }

    PoolBook book(String product) {
        return books.computeIfAbsent(product, newBook);
    }

    PoolBook.Pool orgPool(PoolBook book, String orgId) {
        return book.pools.computeIfAbsent(orgId, newOrgPool);
    }

    private PoolBook.Pool parentPool(PoolBook book, Organization org) {
        return org.parentId() == null ? book.root : orgPool(book, org.parentId());
    }

    /** The pool of any id: the account pool, or an organization's. */
    PoolBook.Pool pool(PoolBook book, String poolId) {
        return poolId.equals(accountId) ? book.root : orgPool(book, poolId);
    }

    void countStarted(Session s) {
        PoolBook book = book(s.product());
        if (book.model().isSeat()) {
            // A floating activation: its seat already counts in the pool.
            book.leaseOfUser.put(s.userId(), s.id());
            return;
        }
        PoolBook.Pool p = pool(book, s.poolId());
        p.inUse++;
        book.touch(p);
        history.changed(book, p, p.inUse - 1, true);
    }

    void countEnded(Session s) {
        PoolBook book = book(s.product());
        if (book.model().isSeat()) {
            book.leaseOfUser.remove(s.userId(), s.id());
            return;
        }
        PoolBook.Pool p = book.pools.get(s.poolId());
        p.inUse--;
        book.touch(p);
        history.changed(book, p, p.inUse + 1, false);
    }

    /**
     * The registered machine's own id instance: a million sessions on a few thousand machines then
     * hold a few thousand strings, not a million copies.
     */
    static String canonicalMachineId(PoolBook book, String machineId) {
        PoolBook.Registration r = book.machines.get(machineId);
        return r == null ? machineId : r.machineId();
    }

    /** The license management table of one product, from this one consistent state. */
    LicenseUsage usage(String product, Instant now) {
        PoolBook book = books.get(product);
        if (book != null) {
            pruneOffline(book, now);
        }
        List<PoolRow> rows = new ArrayList<>(orgs.size() + 1);
        String name = account == null ? accountId : account.name();
        PoolBook.Pool root = book == null ? new PoolBook.Pool(accountId, -1) : book.root;
        rows.add(new PoolRow(accountId, name, null, root.dedicated, root.pool(), root.inUse));
        orgs.forEachPreorder(org -> {
            PoolBook.Pool p = book == null ? null : book.pools.get(org.id());
            rows.add(p == null
                    ? new PoolRow(org.id(), org.name(), orgs.parentKey(org), 0, 0, 0)
                    : new PoolRow(org.id(), org.name(), orgs.parentKey(org), p.dedicated, p.pool(), p.inUse));
        });
        return new LicenseUsage(accountId, product, book == null ? null : book.subscription, rows,
                book == null ? 0 : book.registeredMachines(), book == null ? 0 : book.offline.size() + book.seatOffline.size());
    }

    Set<String> products() {
        return Set.copyOf(books.keySet());
    }

    /** Every product's pools, for {@link PoolInvariants}. */
    Map<String, PoolBook> books() {
        return books;
    }

    // ---------------------------------------------------------------- events

    /** Applies any event but a session's (the ledger applies those), without checks. */
    void apply(LedgerEvent event) {
        if (event instanceof MachineRegistered e) {
            book(e.product()).machines.putIfAbsent(e.machineId(), new PoolBook.Registration(e.machineId(), e.at()));
        } else if (event instanceof MachineDeactivated e) {
            book(e.product()).machines.remove(e.machineId());
        } else if (event instanceof DedicatedSet e) {
            applyDedicated(e);
        } else if (event instanceof SubscriptionSet e) {
            PoolBook book = book(e.subscription().product());
            book.subscription = e.subscription();
            book.root.dedicated = e.subscription().licenses() - book.offline.size();
        } else if (event instanceof OfflineLicenseIssued e) {
            PoolBook book = book(e.license().product());
            if (e.license().bindsSeat()) {
                book.seatOffline.put(e.license().machineId(), e.license());
            } else if (book.offline.put(e.license().machineId(), e.license()) == null) {
                book.root.dedicated--;
            }
        } else if (event instanceof OfflineLicenseExpired e) {
            PoolBook book = book(e.product());
            if (book.offline.remove(e.machineId()) != null) {
                book.root.dedicated++;
            }
            book.seatOffline.remove(e.machineId());
        } else if (event instanceof SeatGranted e) {
            Seat seat = e.seat();
            PoolBook book = book(seat.product());
            book.seats.put(seat.userId(), seat);
            PoolBook.Pool p = pool(book, seat.poolId());
            p.seats++;
            p.inUse++;
            book.touch(p);
            history.changed(book, p, p.inUse - 1, true);
        } else if (event instanceof SeatRemoved e) {
            PoolBook book = book(e.product());
            Seat seat = book.seats.remove(e.userId());
            PoolBook.Pool p = pool(book, seat.poolId());
            p.seats--;
            p.inUse--;
            book.touch(p);
            history.changed(book, p, p.inUse + 1, false);
        } else if (event instanceof SeatBound e) {
            PoolBook book = book(e.product());
            book.seats.computeIfPresent(e.userId(), (u, seat) -> seat.boundTo(e.machineId(), e.activationId(), e.at()));
        } else if (event instanceof SeatUnbound e) {
            book(e.product()).seats.computeIfPresent(e.userId(), (u, seat) -> seat.unbound());
        } else if (event instanceof OrganizationCreated e) {
            orgs.add(e.organization());
        } else if (event instanceof UserUpserted e) {
            users.put(e.user().userId(), e.user());
        } else if (event instanceof PolicySet e) {
            policy = e.settings();
        } else if (event instanceof CredentialAdded e) {
            credentials.add(e.credential());
        } else if (event instanceof CredentialRevoked e) {
            for (Iterator<Credential> it = credentials.iterator(); it.hasNext(); ) {
                Credential c = it.next();
                if (c.lookupId().equals(e.lookupId())) {
                    it.remove();
                    revoked.add(c);
                }
            }
        } else if (event instanceof AccountCreated e) {
            account = e.account();
        } else {
            throw new IllegalStateException("unknown event " + event);
        }
    }

    /**
     * The pool arithmetic of a dedicated change. A revoke (0) gives the subtree's licenses back to
     * the parent with its in-use counts; the ledger moves the sessions themselves.
     */
    private void applyDedicated(DedicatedSet e) {
        Organization org = orgs.get(e.orgId());
        PoolBook book = book(e.product());
        PoolBook.Pool pool = orgPool(book, org.id());
        PoolBook.Pool parent = parentPool(book, org);
        long current = pool.dedicated;
        if (e.licenses() > 0) {
            pool.dedicated = e.licenses();
            parent.allocated += e.licenses() - current;
            book.touch(pool);
            book.touch(parent);
            return;
        }
        // Counted from the pools, not the sessions: a ledger that mirrors a shared store has counts only.
        long moved = 0;
        long movedSeats = 0;
        List<String> subtree = orgs.subtree(org.id());
        for (String id : subtree) {
            PoolBook.Pool p = book.pools.get(id);
            if (p != null) {
                long before = p.inUse;
                moved += p.inUse;
                movedSeats += p.seats;
                p.dedicated = 0;
                p.allocated = 0;
                p.inUse = 0;
                p.seats = 0;
                book.touch(p);
                if (before != 0) {
                    history.changed(book, p, before, false);
                }
            }
        }
        parent.allocated -= current;
        parent.inUse += moved;
        parent.seats += movedSeats;
        book.touch(parent);
        if (moved != 0) {
            history.changed(book, parent, parent.inUse - moved, false);
        }
        if (movedSeats > 0) {
            // The seats move with their licenses, like sessions do.
            Set<String> from = new HashSet<>(subtree);
            book.seats.replaceAll((user, seat) -> from.contains(seat.poolId()) ? seat.withPool(parent.id) : seat);
        }
    }

    /**
     * The configuration and machines as events, in an order that replays: account, credentials,
     * policy, organizations (creation order, parents first), users, then per product the
     * subscription, machines, offline licenses and dedicated licenses.
     */
    void export(Consumer<LedgerEvent> out) {
        if (account != null) {
            out.accept(new AccountCreated(account));
        }
        credentials.forEach(c -> out.accept(new CredentialAdded(c)));
        revoked.forEach(c -> {
            out.accept(new CredentialAdded(c));
            out.accept(new CredentialRevoked(c.lookupId()));
        });
        if (!policy.equals(PolicySettings.DEFAULT)) {
            out.accept(new PolicySet(policy));
        }
        // Creation order (parents always come first): it is the order "any other organization" follows.
        List<Organization> ordered = List.copyOf(orgs.inCreationOrder());
        ordered.forEach(o -> out.accept(new OrganizationCreated(o)));
        users.values().forEach(u -> out.accept(new UserUpserted(u)));
        books.forEach((product, book) -> {
            if (book.subscription != null) {
                out.accept(new SubscriptionSet(book.subscription));
            }
            book.machines.forEach((id, reg) -> out.accept(new MachineRegistered(product, id, reg.at())));
            book.offline.values().forEach(l -> out.accept(new OfflineLicenseIssued(l)));
            book.seatOffline.values().forEach(l -> out.accept(new OfflineLicenseIssued(l)));
            for (Organization o : ordered) {
                PoolBook.Pool p = book.pools.get(o.id());
                if (p != null && p.dedicated > 0) {
                    out.accept(new DedicatedSet(o.id(), product, p.dedicated));
                }
            }
            // After the pools they count in; each carries its binding.
            book.seats.values().forEach(seat -> out.accept(new SeatGranted(seat)));
        });
    }
}
