package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.User;
import io.licensebroker.testkit.MutableClock;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@link ModelTarget} over a {@link LicenseStore}, through its interface only: one account of
 * product KRE, time from a {@link MutableClock} passed into every verb. A store may hand out
 * session ids longer than their name (Redis adds a ticket): the target keeps the id each name was
 * handed out as, passes that id back, and shows sessions by name.
 */
public final class StoreTarget implements ModelTarget {
    public static final String KRE = "KRE";
    private static final Duration MAX_OFFLINE = Duration.ofDays(60);

    private final LicenseStore store;
    private final String account;
    private final MutableClock clock;
    private final Map<String, String> handedOut = new HashMap<>();

    /** Creates the account {@code accountId} in {@code store}. */
    public StoreTarget(LicenseStore store, String accountId, MutableClock clock) {
        this.store = store;
        this.account = accountId;
        this.clock = clock;
        Decision<Account> created = join(store.createAccount(new Account(accountId, "Model " + accountId)));
        if (!created.isGranted()) {
            throw new AssertionError("create account: " + created);
        }
    }

    public static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the store did not answer: " + e, e);
        }
    }

    private static <T> T granted(Decision<T> d, String what) {
        if (!d.isGranted()) {
            throw new AssertionError(what + ": expected granted, got " + d);
        }
        return d.value();
    }

    private String id(String name) {
        return handedOut.getOrDefault(name, name);
    }

    private Decision<Session> named(Decision<Session> d) {
        if (d instanceof Decision.Granted<Session> g) {
            String name = Ids.sessionName(g.value().id());
            handedOut.putIfAbsent(name, g.value().id());
            return Decision.granted(g.value().withId(name));
        }
        return d;
    }

    @Override
    public String accountId() {
        return account;
    }

    @Override
    public Instant now() {
        return clock.instant();
    }

    @Override
    public void advance(Duration by) {
        clock.advance(by);
    }

    @Override
    public Decision<Subscription> subscribe(long licenses, long machineQuota) {
        return join(store.setSubscription(account, KRE, licenses, machineQuota, now().plus(Duration.ofDays(365)), now()));
    }

    @Override
    public Decision<Organization> createOrganization(String parentId, String name) {
        return join(store.createOrganization(account, parentId, name));
    }

    @Override
    public Decision<LicenseUsage> setDedicated(String orgId, long licenses) {
        return join(store.setDedicated(account, orgId, KRE, licenses, now()));
    }

    @Override
    public Decision<User> upsertUser(String userId, String assignedOrgId, List<String> projectOrgIds) {
        return join(store.upsertUser(account, userId, assignedOrgId, projectOrgIds));
    }

    @Override
    public PolicySettings setPolicy(PolicySettings settings) {
        return granted(join(store.setPolicy(account, settings)), "set policy");
    }

    @Override
    public Decision<Session> acquire(String sessionName, String userId, String machineId, String requestId, Instant leaseExpiresAt) {
        return named(join(store.acquire(account, new AcquireRequest(KRE, userId, machineId, requestId, sessionName, now(), leaseExpiresAt))));
    }

    @Override
    public Decision<Session> renew(String sessionName, String userId, Instant newExpiry) {
        return named(join(store.renew(account, id(sessionName), userId, now(), newExpiry)));
    }

    @Override
    public Decision<Boolean> release(String sessionName, String userId) {
        return join(store.release(account, id(sessionName), userId, now()));
    }

    @Override
    public boolean terminate(String sessionName) {
        return granted(join(store.terminate(account, id(sessionName), now())), "terminate");
    }

    @Override
    public int expire() {
        return join(store.expireLeases(now()));
    }

    @Override
    public Decision<OfflineLicense> offline(String machineId, Instant expiresAt) {
        return join(store.issueOfflineLicense(account, KRE, machineId, expiresAt, MAX_OFFLINE, now()));
    }

    @Override
    public boolean deactivate(String machineId) {
        return granted(join(store.deactivateMachine(account, KRE, machineId, now())), "deactivate");
    }

    @Override
    public LicenseUsage usage() {
        return granted(join(store.usage(account, KRE, now())), "usage");
    }

    @Override
    public List<Session> sessions() {
        List<Session> out = new ArrayList<>();
        String token = null;
        do {
            SessionPage page = granted(join(store.sessions(account, new SessionQuery(null, null, null, null, 500, token))), "sessions");
            page.sessions().forEach(s -> out.add(s.withId(Ids.sessionName(s.id()))));
            token = page.nextPageToken();
        } while (token != null);
        return out;
    }

    @Override
    public List<Machine> machines() {
        return granted(join(store.machines(account, KRE, now())), "machines");
    }
}
