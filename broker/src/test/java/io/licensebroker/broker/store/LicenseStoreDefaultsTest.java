package io.licensebroker.broker.store;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static io.licensebroker.broker.store.StoreSuite.denied;
import static io.licensebroker.broker.store.StoreSuite.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The lookups {@link LicenseStore} answers by paging through a listing, for stores that do not
 * file them by id ({@link LicenseStore#session}, {@link LicenseStore#seat}): run here over the
 * memory store with its own direct answers hidden, past the first page.
 */
final class LicenseStoreDefaultsTest {
    private static final Set<String> DEFAULTS = Set.of("session", "seat");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final MemoryStore memory = MemoryStore.volatileStore(Duration.ofMinutes(10));
    private final LicenseStore store = withDefaults(memory);

    @AfterEach
    void close() {
        memory.close();
    }

    private static LicenseStore withDefaults(LicenseStore delegate) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (DEFAULTS.contains(method.getName())) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            try {
                return method.invoke(delegate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (LicenseStore) Proxy.newProxyInstance(LicenseStore.class.getClassLoader(), new Class<?>[] {LicenseStore.class}, handler);
    }

    @Test
    void aSessionPastTheFirstPageIsFound() {
        String a = account(LicenseModel.SESSION, "KRE");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1_005; i++) {
            ids.add(ok(store.acquire(a, new AcquireRequest("KRE", "u", "m", "", Ids.newSessionId(a, RANDOM), clock.instant(),
                    clock.instant().plus(Duration.ofMinutes(1))))).id());
        }
        // Pages of 1,000 in id order: the greatest id is on the second page.
        String farthest = Collections.max(ids);

        assertEquals(farthest, ok(store.session(a, farthest)).orElseThrow().id());
        assertEquals(Optional.empty(), ok(store.session(a, Ids.newSessionId(a, RANDOM))));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(store.session("nobody", farthest)));
    }

    @Test
    void aSeatPastTheFirstPageIsFound() {
        String a = account(LicenseModel.FLOATING, "KSE");
        for (int i = 0; i < 1_005; i++) {
            String user = String.format("u%04d", i);
            ok(store.upsertUser(a, user, null, List.of()));
            ok(store.grantLicense(a, "KSE", user, null, clock.instant()));
        }

        assertEquals("u1004", ok(store.seat(a, "KSE", "u1004", clock.instant())).orElseThrow().userId(), "the last user, on the second page");
        assertEquals(Optional.empty(), ok(store.seat(a, "KSE", "u9999", clock.instant())));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(store.seat("nobody", "KSE", "u0001", clock.instant())));
    }

    private String account(LicenseModel model, String product) {
        String id = "AC-DEFAULTS";
        ok(store.createAccount(new Account(id, "Defaults")));
        ok(store.setSubscription(id, product, 2_000, 2_000, clock.instant().plus(Duration.ofDays(30)), model, clock.instant()));
        ok(store.upsertUser(id, "u", null, List.of()));
        return id;
    }
}
