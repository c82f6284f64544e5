package io.licensebroker.broker.store.redis;

import static io.licensebroker.broker.store.redis.RedisNodes.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Status;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Redis faults under load, through two real broker nodes: Redis (AOF, fsync always) SIGKILLed and
 * restarted, and Redis stalled by {@code DEBUG SLEEP}. The agents behave like the SDK: a call that
 * answers UNAVAILABLE or DEADLINE_EXCEEDED is repeated as is (an acquire with the same
 * {@code request_id}) until it gets a real answer. Checked: a failing call answers within a bound
 * (no hang), the nodes serve again without being restarted, every acknowledged session is still
 * there and renewable, and once every call is settled in_use is exactly the sessions the agents
 * hold (nothing half-applied, nothing granted twice), with the invariant on every row.
 *
 * <p>{@code -Dredis.faults=N} sets how many faults of each kind are injected (default 3),
 * {@code -Dredis.faults.agents=N} how many agents run (default 4). A mismatch names each session no
 * agent holds with its agent's last calls and the fault times, so a rare failure can be explained.
 */
class RedisFaultsTest {
    private static final int AGENTS = Integer.getInteger("redis.faults.agents", 4);
    private static final int HELD_PER_AGENT = 5;
    private static final Duration REDIS_TIMEOUT = Duration.ofMillis(500);
    /** A failing call may take the Redis timeout plus scheduling noise on a loaded 2-core machine; a hang takes far longer. */
    private static final Duration FAIL_FAST_BOUND = Duration.ofMillis(2_000);
    /** Calls answered after a fault before the nodes count as recovered. */
    private static final int CALLS_TO_RECOVER = 40;

    @TempDir
    Path dir;

    private RedisServer redis;
    private RedisNodes nodes;
    private final AtomicLong maxFailingLatencyNanos = new AtomicLong();
    private final AtomicInteger failedCalls = new AtomicInteger();
    private final AtomicInteger answeredCalls = new AtomicInteger();
    private final List<String> problems = new ArrayList<>();
    private final AtomicInteger releasesAppliedTwice = new AtomicInteger();
    /** Per machine, what its agent asked and was answered (ms since the start), for a failure message. */
    private final Map<String, List<String>> events = new ConcurrentHashMap<>();
    private final long startNanos = System.nanoTime();
    private final List<String> faultTimes = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (nodes != null) {
            nodes.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void redisWithAofKilledAndRestartedUnderLoad() throws Exception {
        redis = RedisServer.start(dir, "--appendonly", "yes", "--appendfsync", "always");
        int faults = Integer.getInteger("redis.faults", 3);
        run("kill", faults, () -> {
            redis.kill();
            return () -> redis.restart();
        });
    }

    @Test
    void slowRedisAnswersUnavailableWithinTheTimeoutAndServiceResumes() throws Exception {
        redis = RedisServer.start(dir);
        int faults = Integer.getInteger("redis.faults", 3);
        run("DEBUG SLEEP 2", faults, () -> {
            // DEBUG SLEEP blocks the connection that sends it; run it aside and hand back its end as the recovery.
            CompletableFuture<Void> sleeping = CompletableFuture.runAsync(() -> redis.with(c -> c.sync().dispatch(CommandType.DEBUG,
                    new StatusOutput<>(StringCodec.UTF8), new CommandArgs<>(StringCodec.UTF8).add("SLEEP").add(2))));
            return () -> sleeping.get(30, TimeUnit.SECONDS);
        });
    }

    /** What a fault's recovery does (restart Redis, wait for the sleep to end). */
    private interface Recovery {
        void run() throws Exception;
    }

    private void run(String fault, int faults, Supplier<Recovery> inject) throws Exception {
        nodes = RedisNodes.start(redis.uri(), 2, Duration.ofMinutes(10), REDIS_TIMEOUT);
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "AC-faults");
        List<List<String>> held = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService threads = Executors.newFixedThreadPool(AGENTS);
        List<Future<?>> agents = new ArrayList<>();
        long seed = System.nanoTime();
        try {
            for (int a = 0; a < AGENTS; a++) {
                List<String> mine = new ArrayList<>();
                held.add(mine);
                int agent = a;
                String key = account.apiKeys().get(account.users().get(a % account.users().size()));
                keys.add(key);
                Random random = new Random(seed + a);
                agents.add(threads.submit(() -> agentLoop(agent, key, mine, random, running)));
            }
            for (int f = 0; f < faults; f++) {
                int answered = answeredCalls.get();
                Await.until(Duration.ofSeconds(30), () -> answeredCalls.get() >= answered + CALLS_TO_RECOVER, () -> "load before " + fault);
                int failedBefore = failedCalls.get();
                faultTimes.add(at() + " on");
                Recovery recovery = inject.get();
                // The fault is on while calls fail; then it ends and the same nodes must serve again.
                Await.until(Duration.ofSeconds(30), () -> failedCalls.get() >= failedBefore + AGENTS, () -> "calls failing during " + fault);
                recovery.run();
                faultTimes.add(at() + " off");
                int afterFault = answeredCalls.get();
                Await.until(Duration.ofSeconds(30), () -> answeredCalls.get() >= afterFault + CALLS_TO_RECOVER,
                        () -> "the nodes serve again after " + fault + " without a restart");
            }
            running.set(false);
            for (Future<?> f : agents) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            running.set(false);
            threads.shutdownNow();
        }
        synchronized (problems) {
            assertEquals(List.of(), problems, fault);
        }

        int renewed = 0;
        for (int a = 0; a < AGENTS; a++) {
            for (String s : held.get(a)) {
                try {
                    nodes.agent(renewed % 2, keys.get(a)).renewSession(RenewSessionRequest.newBuilder().setSessionId(s).build());
                } catch (StatusRuntimeException e) {
                    fail("acknowledged session " + s + " lost after " + fault + ": " + e.getStatus() + " " + reason(e));
                }
                renewed++;
            }
        }
        long live = held.stream().mapToLong(List::size).sum();
        for (int n = 0; n < 2; n++) {
            LicenseUsage usage = nodes.usage(n, account.account());
            assertEquals(List.of(), GrpcTortureTest.violations(usage), fault + ": " + usage);
            assertEquals(live, usage.getRowsList().stream().mapToLong(PoolRow::getInUse).sum(),
                    () -> "in_use equals the sessions the agents hold after " + fault + " " + faultTimes + "; sessions no agent holds: "
                            + unheld(account.account(), held) + "; " + usage);
        }
        Duration maxFailing = Duration.ofNanos(maxFailingLatencyNanos.get());
        System.out.printf("RedisFaultsTest: %d x %s under load; %d calls failed (slowest %d ms, bound %d ms), %d answered;"
                        + " %d acknowledged live sessions renewed after the faults, in_use exact; lost: nothing;"
                        + " first release attempts answered released=false (a re-send answered wrongly): %d%n",
                faults, fault, failedCalls.get(), maxFailing.toMillis(), FAIL_FAST_BOUND.toMillis(), answeredCalls.get(), renewed,
                releasesAppliedTwice.get());
        assertTrue(maxFailing.compareTo(FAIL_FAST_BOUND) < 0, "slowest failing call " + maxFailing);
        for (int a = 0; a < AGENTS; a++) {
            for (String s : held.get(a)) {
                assertTrue(nodes.agent(a % 2, keys.get(a)).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(s).build()).getReleased(), s);
            }
        }
        assertEquals(0, nodes.usage(1, account.account()).getRowsList().stream().mapToLong(PoolRow::getInUse).sum());
    }

    private void agentLoop(int agent, String key, List<String> mine, Random random, AtomicBoolean running) {
        int node = agent % 2;
        List<String> log = new ArrayList<>();
        events.put("m-" + agent, log);
        long requests = 0;
        while (running.get()) {
            if (mine.size() < HELD_PER_AGENT && (mine.isEmpty() || random.nextBoolean())) {
                AcquireSessionRequest request = AcquireSessionRequest.newBuilder().setMachineId("m-" + agent)
                        .setRequestId("a" + agent + "-" + requests++).build();
                // Repeated with the same request_id until answered: granted once, never twice.
                while (true) {
                    long start = System.nanoTime();
                    try {
                        String granted = nodes.agent(node, key).withDeadlineAfter(10, TimeUnit.SECONDS).acquireSession(request).getSessionId();
                        mine.add(granted);
                        log.add(at() + " " + request.getRequestId() + " granted " + Ids.sessionName(granted));
                        answeredCalls.incrementAndGet();
                        break;
                    } catch (StatusRuntimeException e) {
                        log.add(at() + " " + request.getRequestId() + " " + e.getStatus().getCode());
                        if (failed(e, start)) {
                            continue;
                        }
                        if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                            problem("acquire: " + e.getStatus() + " " + reason(e));
                        }
                        answeredCalls.incrementAndGet();
                        break;
                    }
                }
            } else {
                String session = mine.remove(random.nextInt(mine.size()));
                for (boolean repeat = false; ; repeat = true) {
                    long start = System.nanoTime();
                    try {
                        // released=false is fine only for a repeat: the cut first attempt may have been applied.
                        boolean released = nodes.agent(node, key).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(session).build()).getReleased();
                        log.add(at() + " release " + Ids.sessionName(session) + " " + released);
                        if (!released && !repeat) {
                            // Lettuce re-sends a command that was in flight when the connection dropped once it
                            // reconnects; if Redis had applied the release, the re-send must still answer what
                            // the first run did (the store's operation ids), not "already released".
                            releasesAppliedTwice.incrementAndGet();
                            problem("release of " + session + " answered released=false on the agent's first attempt");
                        }
                        answeredCalls.incrementAndGet();
                        break;
                    } catch (StatusRuntimeException e) {
                        log.add(at() + " release " + Ids.sessionName(session) + " " + e.getStatus().getCode());
                        if (failed(e, start)) {
                            continue;
                        }
                        problem("release: " + e.getStatus() + " " + reason(e));
                        break;
                    }
                }
            }
        }
    }

    private long at() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** The broker's live sessions that no agent holds, for a failure message: which calls made them. */
    private List<String> unheld(String account, List<List<String>> held) {
        Set<String> names = new HashSet<>();
        held.forEach(mine -> mine.forEach(s -> names.add(Ids.sessionName(s))));
        List<String> out = new ArrayList<>();
        for (Session s : nodes.admin(0).listSessions(
                ListSessionsRequest.newBuilder().setAccountId(account).setPageSize(1000).build()).getSessionsList()) {
            if (!names.contains(Ids.sessionName(s.getSessionId()))) {
                List<String> log = events.getOrDefault(s.getMachineId(), List.of());
                out.add(s.getSessionId() + " (machine " + s.getMachineId() + ", pool " + s.getPoolId() + ", started "
                        + s.getStartedAt().getSeconds() + "." + s.getStartedAt().getNanos() / 1_000_000 + "; its agent's last calls: "
                        + log.subList(Math.max(0, log.size() - 40), log.size()) + ")");
            }
        }
        return out;
    }

    /** True for a call cut by the fault (to be repeated); records how long it took to fail. */
    private boolean failed(StatusRuntimeException e, long start) {
        Status.Code c = e.getStatus().getCode();
        if (c != Status.Code.UNAVAILABLE && c != Status.Code.DEADLINE_EXCEEDED) {
            return false;
        }
        maxFailingLatencyNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
        failedCalls.incrementAndGet();
        return true;
    }

    private void problem(String what) {
        synchronized (problems) {
            problems.add(what);
        }
    }
}
