package io.licensebroker.broker.metrics;

import com.google.protobuf.Timestamp;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.broker.testing.Exposition;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.broker.testing.Promtool;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import com.google.rpc.ErrorInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scrape after a series of acquires and denials, parsed: the pool gauges equal GetLicenseUsage
 * row for row, the counters equal what the clients saw happen, the histogram has its buckets, and
 * the exposed names are exactly the contract's.
 */
final class MetricsScrapeTest {
    private final InProcessBroker broker = new InProcessBroker(10_000);
    /** (outcome, reason, fallback) as the clients saw each AcquireSession end. */
    private final Map<List<String>, Integer> seen = new TreeMap<>((a, b) -> String.join("/", a).compareTo(String.join("/", b)));

    @AfterEach
    void close() {
        broker.close();
    }

    @Test
    void gaugesEqualGetLicenseUsageAndCountersEqualWhatHappened() {
        // acme: 10 KRE licenses; eng 3 (of which sub 1), qa 2; MEMBER_BASED with fallback, so alice
        // (assigned eng, in no project) draws from eng, then falls back to the account pool.
        account("acme", 10, 100, future());
        String eng = org("acme", null, "Engineering");
        String sub = org("acme", eng, "Platform");
        String qa = org("acme", null, "Quality");
        dedicate(eng, 3);
        dedicate(sub, 1);
        dedicate(qa, 2);
        broker.root().setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("acme")
                .setPolicy(UsagePolicy.USAGE_POLICY_MEMBER_BASED).setAllowFallback(true).build());
        broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setProduct("CAD")
                .setLicenses(4).setMachineQuota(10).setExpiresAt(future()).build());
        String alice = user("acme", "alice", eng);
        // strict: STRICT without fallback; dave's one-license organization runs out.
        account("strict", 5, 100, future());
        String only = org("strict", null, "Only");
        dedicate(only, 1);
        broker.root().setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("strict")
                .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
        String dave = user("strict", "dave", only);
        // tiny: one license, one machine. old: expired.
        account("tiny", 1, 1, future());
        String erin = user("tiny", "erin", null);
        account("old", 5, 5, Timestamp.newBuilder().setSeconds(broker.clock.instant().minusSeconds(60).getEpochSecond()).build());
        String olga = user("old", "olga", null);

        List<String> aliceSessions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            aliceSessions.add(acquire(alice, "KRE", "a-" + i).getSessionId());
        }
        acquire(alice, "CAD", "a-cad");
        acquire(dave, "KRE", "d-1");
        acquire(dave, "KRE", "d-2");
        acquire(erin, "KRE", "e-1");
        acquire(erin, "KRE", "e-2");
        acquire(erin, "KRE", "e-1");
        acquire(erin, "CAD", "e-1");
        acquire(olga, "KRE", "o-1");

        assertEquals(Map.of(
                List.of("denied", "MACHINE_QUOTA_EXCEEDED", "false"), 1,
                List.of("denied", "NO_LICENSE_AVAILABLE", "false"), 1,
                List.of("denied", "NO_SUBSCRIPTION", "false"), 1,
                List.of("denied", "ORGANIZATION_POOL_EXHAUSTED", "false"), 1,
                List.of("denied", "SUBSCRIPTION_EXPIRED", "false"), 1,
                List.of("granted", "ok", "false"), 4,
                // alice's third KRE license and her CAD one (eng has no CAD licenses) come from the account pool
                List.of("granted", "ok", "true"), 2), seen, "the scenario covers every outcome");

        Exposition scrape = scrape();
        assertCountersEqualWhatWasSeen(scrape);
        assertGaugesEqualUsage(scrape);
        assertEquals(0, scrape.value("license_metrics_pools_dropped"));

        // The histogram: real buckets, ordered, cumulative, +Inf equal to the count of decisions.
        assertEquals("histogram", scrape.type("license_acquire_seconds"));
        List<Exposition.Sample> buckets = scrape.named("license_acquire_seconds_bucket");
        assertEquals(AcquireMetrics.BUCKETS.length + 1, buckets.size());
        double previousBound = 0;
        double previousCount = 0;
        for (Exposition.Sample bucket : buckets) {
            double bound = bucket.labels().get("le").equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bucket.labels().get("le"));
            assertTrue(bound > previousBound && bucket.value() >= previousCount, "buckets ascend: " + buckets);
            previousBound = bound;
            previousCount = bucket.value();
        }
        int decisions = seen.values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(11, decisions);
        assertEquals(decisions, previousCount, "+Inf bucket");
        assertEquals(decisions, scrape.value("license_acquire_seconds_count"));
        assertEquals(List.of(), scrape.named("license_acquire_seconds").stream().filter(s -> s.labels().containsKey("quantile")).toList(),
                "no client-side percentiles");

        // RPC and store metrics saw the same calls.
        assertEquals(6, scrape.value("grpc_server_handling_seconds_count", "grpc_method", "AcquireSession", "grpc_code", "OK"));
        assertEquals(3, scrape.value("grpc_server_handling_seconds_count", "grpc_method", "AcquireSession", "grpc_code", "RESOURCE_EXHAUSTED"));
        assertEquals(2, scrape.value("grpc_server_handling_seconds_count", "grpc_method", "AcquireSession", "grpc_code", "FAILED_PRECONDITION"));
        assertEquals(decisions, scrape.value("broker_store_operation_seconds_count", "store", "memory", "operation", "acquire"));
        assertEquals(0, scrape.value("broker_store_errors_total", "store", "memory", "operation", "acquire"));

        // Changes show in the very next scrape: a release, then a revoke that moves eng's sessions to the account pool.
        broker.agent(alice).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(aliceSessions.get(0)).build());
        broker.root().revokeDedicatedLicenses(RevokeDedicatedLicensesRequest.newBuilder().setOrgId(eng).build());
        Exposition after = scrape();
        assertGaugesEqualUsage(after);
        assertEquals(0, after.value("license_pool_dedicated", "account", "acme", "pool", eng, "product", "KRE"));
        assertEquals(0, after.value("license_pool_dedicated", "account", "acme", "pool", sub, "product", "KRE"));
        assertEquals(2, after.value("license_pool_in_use", "account", "acme", "pool", "acme", "product", "KRE"),
                "alice's fallback session, and the one left in eng, moved up by the revoke");
        assertEquals(2, after.value("license_pool_available", "account", "acme", "pool", qa, "product", "KRE"));
    }

    @Test
    void expiredSessionsAreCountedHoweverTheyEnd() {
        account("acme", 10, 100, future());
        String alice = user("acme", "alice", null);
        account("tiny", 5, 100, future());
        String erin = user("tiny", "erin", null);
        for (int i = 0; i < 3; i++) {
            acquire(alice, "KRE", "a-" + i);
        }
        acquire(erin, "KRE", "e-1");
        acquire(erin, "KRE", "e-2");
        assertEquals(0, scrape().value("license_sessions_expired_total"));

        broker.clock.advance(InProcessBroker.LEASE.plusSeconds(1));
        // An acquire frees tiny's lapsed licenses on the spot, before any reaper pass.
        acquire(erin, "KRE", "e-3");
        assertEquals(2, scrape().value("license_sessions_expired_total"));
        assertEquals(3, (int) broker.service.reapExpiredLeases().toCompletableFuture().join());
        Exposition scrape = scrape();
        assertEquals(5, scrape.value("license_sessions_expired_total"));
        assertEquals("counter", scrape.type("license_sessions_expired_total"));
        assertGaugesEqualUsage(scrape);
    }

    @Test
    void poolSeriesAreBoundedAndTheRestCounted() {
        try (InProcessBroker small = new InProcessBroker(4)) {
            for (String account : List.of("b-account", "a-account")) {
                small.root().createAccount(CreateAccountRequest.newBuilder().setAccountId(account).setName(account).build());
                for (int i = 0; i < 2; i++) {
                    small.root().createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(account).setName("org" + i).build());
                }
            }
            Exposition scrape = Exposition.parse(small.metrics.scrape());
            for (String gauge : List.of("license_pool_dedicated", "license_pool_in_use", "license_pool_available")) {
                List<Exposition.Sample> series = scrape.named(gauge);
                assertEquals(4, series.size(), gauge);
                // A stable cut: accounts in id order, each table in its own order.
                assertEquals(List.of("a-account", "a-account", "a-account", "b-account"),
                        series.stream().map(s -> s.labels().get("account")).sorted().toList());
                assertEquals(1, series.stream().filter(s -> s.labels().get("pool").equals("a-account")).count());
            }
            assertEquals(2, scrape.value("license_metrics_pools_dropped"), "six triples, four exported");
        }
        try (InProcessBroker none = new InProcessBroker(0)) {
            none.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("x").setName("x").build());
            Exposition scrape = Exposition.parse(none.metrics.scrape());
            assertEquals(List.of(), scrape.named("license_pool_in_use"));
            assertEquals(1, scrape.value("license_metrics_pools_dropped"));
        }
    }

    @Test
    void anAccountThatCannotBeReadIsLeftOutAndCounted() {
        MemoryStore memory = MemoryStore.volatileStore(Duration.ofMinutes(10));
        // A store whose usage reads fail for one account, as a Redis shard that times out would.
        LicenseStore failing = (LicenseStore) Proxy.newProxyInstance(LicenseStore.class.getClassLoader(), new Class<?>[]{LicenseStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("usage") && "broken".equals(args[0])) {
                        return CompletableFuture.failedFuture(new IllegalStateException("shard down"));
                    }
                    return method.invoke(memory, args);
                });
        try (BrokerMetrics metrics = BrokerMetrics.create(100)) {
            LicenseService service = new LicenseService(failing, new MutableClock(Instant.parse("2030-01-01T00:00:00Z")),
                    InProcessBroker.LEASE, Ed25519Signer.generate(), new SecureRandom(), null);
            for (String account : List.of("broken", "fine")) {
                service.createAccount(account, account).toCompletableFuture().join();
            }
            metrics.watchPools(service);
            Exposition scrape = Exposition.parse(metrics.scrape());
            assertEquals(Set.of("fine"), accounts(scrape));
            assertEquals(1, scrape.value("license_metrics_pool_read_errors_total"));
            assertTrue(scrape.named("jvm_memory_used_bytes").size() > 0, "the rest of the scrape is intact");
        } finally {
            memory.close();
        }
    }

    @Test
    void exposedNamesAndLabelsAreExactlyTheContracts() {
        account("acme", 10, 100, future());
        acquire(user("acme", "alice", null), "KRE", "m-1");
        Exposition scrape = scrape();
        Map<String, String> contract = Map.of(
                "license_pool_dedicated", "gauge", "license_pool_in_use", "gauge", "license_pool_available", "gauge",
                "license_acquire_total", "counter", "license_acquire_seconds", "histogram", "license_sessions_expired_total", "counter");
        contract.forEach((name, type) -> assertEquals(type, scrape.type(name), name));
        for (String gauge : List.of("license_pool_dedicated", "license_pool_in_use", "license_pool_available")) {
            scrape.named(gauge).forEach(s -> assertEquals(Set.of("account", "pool", "product"), s.labels().keySet(), gauge));
        }
        scrape.named("license_acquire_total").forEach(s -> assertEquals(Set.of("outcome", "reason", "fallback"), s.labels().keySet()));
        assertEquals(Set.of(), scrape.named("license_acquire_seconds_count").get(0).labels().keySet());
        assertEquals(Set.of(), scrape.named("license_sessions_expired_total").get(0).labels().keySet());
        assertTrue(scrape.named("jvm_memory_used_bytes").size() > 0 && scrape.named("process_cpu_seconds_total").size() == 1
                && scrape.named("process_uptime_seconds").size() == 1, "JVM and process metrics");
    }

    /** An alert on {@code increase()} sees a first event only if the series was already there at 0. */
    @Test
    void redisCountersAreExportedAtZeroFromStartAndOnlyForRedis() {
        try (BrokerMetrics redisNode = BrokerMetrics.create(10)) {
            redisNode.timed(MemoryStore.volatileStore(Duration.ofMinutes(10), redisNode.storeObserver()), "redis");
            Exposition before = Exposition.parse(redisNode.scrape());
            assertEquals(0, before.value("broker_redis_state_losses_total"));
            assertEquals(0, before.value("license_sessions_readmitted_total"));
            redisNode.storeObserver().stateLost("acme", 3);
            assertEquals(1, Exposition.parse(redisNode.scrape()).value("broker_redis_state_losses_total"));
        }
        Exposition memoryNode = scrape();
        assertEquals(List.of(), memoryNode.named("broker_redis_state_losses_total"));
        assertEquals(List.of(), memoryNode.named("license_sessions_readmitted_total"));
    }

    @Test
    void promtoolAcceptsTheScrape() throws Exception {
        account("acme", 10, 100, future());
        acquire(user("acme", "alice", null), "KRE", "m-1");
        broker.clock.advance(InProcessBroker.LEASE.plusSeconds(1));
        broker.service.reapExpiredLeases().toCompletableFuture().join();
        Promtool.Result lint = Promtool.run(broker.metrics.scrape(), "check", "metrics");
        assertEquals(0, lint.exitCode(), "promtool check metrics: " + lint.output());
    }

    // ---------------------------------------------------------------- assertions

    private void assertCountersEqualWhatWasSeen(Exposition scrape) {
        Map<List<String>, Integer> exported = new HashMap<>();
        for (Exposition.Sample s : scrape.named("license_acquire_total")) {
            if (s.value() > 0) {
                exported.put(List.of(s.labels().get("outcome"), s.labels().get("reason"), s.labels().get("fallback")), (int) s.value());
            }
        }
        assertEquals(seen, exported);
        assertEquals("counter", scrape.type("license_acquire_total"));
    }

    /** Every (account, pool, product) of every table has exactly its three figures, and nothing else is exported. */
    private void assertGaugesEqualUsage(Exposition scrape) {
        Set<List<String>> expected = new HashSet<>();
        for (String account : accounts(scrape)) {
            for (String product : productsOf(scrape, account)) {
                LicenseUsage usage = usage(account, product);
                for (PoolRow row : usage.getRowsList()) {
                    String[] labels = {"account", account, "pool", row.getPoolId(), "product", product};
                    String where = account + "/" + product + "/" + row.getPoolId();
                    assertEquals(row.getDedicated(), scrape.value("license_pool_dedicated", labels), where);
                    assertEquals(row.getInUse(), scrape.value("license_pool_in_use", labels), where);
                    assertEquals(row.getAvailable(), scrape.value("license_pool_available", labels), where);
                    expected.add(List.of(account, row.getPoolId(), product));
                }
            }
        }
        for (String gauge : List.of("license_pool_dedicated", "license_pool_in_use", "license_pool_available")) {
            Set<List<String>> exported = new HashSet<>();
            scrape.named(gauge).forEach(s -> exported.add(List.of(s.labels().get("account"), s.labels().get("pool"), s.labels().get("product"))));
            assertEquals(expected, exported, gauge);
        }
        Set<String> every = new HashSet<>();
        broker.service.accounts().toCompletableFuture().join().forEach(a -> every.add(a.id()));
        assertEquals(every, accounts(scrape), "every account is exported");
    }

    private static Set<String> accounts(Exposition scrape) {
        Set<String> out = new HashSet<>();
        scrape.named("license_pool_in_use").forEach(s -> out.add(s.labels().get("account")));
        return out;
    }

    private static Set<String> productsOf(Exposition scrape, String account) {
        Set<String> out = new HashSet<>();
        scrape.matching("license_pool_in_use", "account", account).forEach(s -> out.add(s.labels().get("product")));
        return out;
    }

    // ---------------------------------------------------------------- setup through the RPCs

    private Exposition scrape() {
        return Exposition.parse(broker.metrics.scrape());
    }

    private Timestamp future() {
        return Timestamp.newBuilder().setSeconds(broker.clock.instant().plus(Duration.ofDays(365)).getEpochSecond()).build();
    }

    private void account(String id, long licenses, long machines, Timestamp expiresAt) {
        broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId(id).setName(id).build());
        broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(id).setLicenses(licenses)
                .setMachineQuota(machines).setExpiresAt(expiresAt).build());
    }

    private String org(String account, String parent, String name) {
        return broker.root().createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(account)
                .setParentId(parent == null ? "" : parent).setName(name).build()).getOrgId();
    }

    private void dedicate(String org, long licenses) {
        broker.root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(licenses).build());
    }

    private String user(String account, String userId, String assignedOrg) {
        broker.root().upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId(userId)
                .setAssignedOrgId(assignedOrg == null ? "" : assignedOrg).build());
        return broker.root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(userId).build()).getApiKey();
    }

    private LicenseUsage usage(String account, String product) {
        return broker.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).setProduct(product).build());
    }

    /** Acquires and records what the client saw; answers the response, or the default instance when denied. */
    private AcquireSessionResponse acquire(String apiKey, String product, String machine) {
        try {
            AcquireSessionResponse r = broker.agent(apiKey).acquireSession(AcquireSessionRequest.newBuilder()
                    .setProduct(product).setMachineId(machine).build());
            seen.merge(List.of("granted", "ok", Boolean.toString(r.getFallback())), 1, Integer::sum);
            return r;
        } catch (StatusRuntimeException e) {
            seen.merge(List.of("denied", reason(e), "false"), 1, Integer::sum);
            return AcquireSessionResponse.getDefaultInstance();
        }
    }

    private static String reason(StatusRuntimeException e) {
        for (var detail : StatusProto.fromThrowable(e).getDetailsList()) {
            if (detail.is(ErrorInfo.class)) {
                try {
                    return detail.unpack(ErrorInfo.class).getReason();
                } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                    throw new AssertionError(ex);
                }
            }
        }
        throw new AssertionError("no ErrorInfo in " + e);
    }
}
