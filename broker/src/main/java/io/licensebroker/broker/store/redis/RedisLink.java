package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.StoreRefusedException;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The node's one shared, pipelined Lettuce connection (standalone or cluster) and how calls on it
 * behave:
 * <ul>
 *   <li>every command has a bounded timeout, and while the connection is down commands are
 *       rejected at once instead of queueing (REJECT_COMMANDS), as are commands beyond a bounded
 *       queue: callers fail fast, nothing piles up;</li>
 *   <li>Lettuce reconnects by itself (backoff capped at one second) when Redis returns;</li>
 *   <li>replies are handed to a small executor of our own, so nothing downstream (parsing, gRPC
 *       serialization) ever runs on a Netty thread, and the one connection's event loop only does I/O;</li>
 *   <li>infrastructure failures become {@link StoreUnavailableException} (UNAVAILABLE at the edge);
 *       refusals only Redis's operator can fix (OOM, NOPERM) become {@link StoreRefusedException},
 *       whose message says what to fix; a failing script is a bug and becomes
 *       {@link IllegalStateException}.</li>
 * </ul>
 */
final class RedisLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RedisLink.class.getName());
    private static final long REFUSAL_WARNING_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    static final String OOM_MESSAGE = "Redis refused the write: it is out of memory (maxmemory reached with the noeviction"
            + " policy); the Redis operator must raise maxmemory or free memory. Nothing was changed; reads still work";
    static final String NOPERM_MESSAGE = "Redis refused the command: the broker's Redis user lacks a permission (%s);"
            + " the Redis operator must grant it the @scripting, @read, @write, @keyspace and @connection commands"
            + " and INFO on the keys ~lb:* (e.g. ACL SETUSER <user> ~lb:* +@all). Nothing was changed";

    private final AbstractRedisClient client;
    private final ClientResources resources;
    private final StatefulConnection<String, String> connection;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final StatefulRedisClusterConnection<String, String> clusterConnection;
    private final ThreadPoolExecutor executor;
    private final Consumer<String> errors;
    private volatile boolean available = true;
    /** When the last OOM/NOPERM warning was logged (nanoTime): one a minute is enough, not one per call. */
    private final java.util.concurrent.atomic.AtomicLong lastRefusalWarning = new java.util.concurrent.atomic.AtomicLong(
            System.nanoTime() - REFUSAL_WARNING_EVERY_NANOS);

    private RedisLink(AbstractRedisClient client, ClientResources resources, StatefulConnection<String, String> connection,
                      RedisClusterAsyncCommands<String, String> commands,
                      StatefulRedisClusterConnection<String, String> clusterConnection, ThreadPoolExecutor executor,
                      Consumer<String> errors) {
        this.client = client;
        this.resources = resources;
        this.connection = connection;
        this.commands = commands;
        this.clusterConnection = clusterConnection;
        this.executor = executor;
        this.errors = errors;
    }

    /**
     * What standalone and cluster connections share: reconnect by themselves, refuse commands at
     * once while disconnected or when too many wait, and time every command out.
     */
    private static void failFast(ClientOptions.Builder options, int maxQueued, Duration timeout, SocketOptions socket) {
        options.autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(maxQueued)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(socket)
                .protocolVersion(ProtocolVersion.RESP2);
    }

    /**
     * Connects to {@code uri}: one {@code redis://host:port} (a server that reports cluster mode is
     * used as a cluster seed), or a comma list of cluster seeds. Blocks the calling thread (start-up).
     */
    static RedisLink connect(String uri, Duration timeout, int maxQueued, int threads, Consumer<String> errors) {
        List<RedisURI> uris = parse(uri);
        ClientResources resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        ThreadPoolExecutor executor = newExecutor(threads);
        SocketOptions socket = SocketOptions.builder()
                .connectTimeout(timeout.compareTo(Duration.ofSeconds(1)) > 0 ? timeout : Duration.ofSeconds(1))
                .keepAlive(true)
                .tcpNoDelay(true)
                .build();
        AbstractRedisClient opened = null;
        try {
            if (uris.size() == 1) {
                RedisClient standalone = RedisClient.create(resources, uris.get(0));
                opened = standalone;
                ClientOptions.Builder options = ClientOptions.builder();
                failFast(options, maxQueued, timeout, socket);
                standalone.setOptions(options.build());
                StatefulRedisConnection<String, String> c = standalone.connect(StringCodec.UTF8);
                if (!c.sync().info("cluster").contains("cluster_enabled:1")) {
                    return new RedisLink(standalone, resources, c, c.async(), null, executor, errors);
                }
                c.close();
                standalone.shutdown(Duration.ZERO, Duration.ofSeconds(2));
                opened = null;
            }
            RedisClusterClient cluster = RedisClusterClient.create(resources, uris);
            opened = cluster;
            ClusterClientOptions.Builder options = ClusterClientOptions.builder();
            failFast(options, maxQueued, timeout, socket);
            cluster.setOptions(options
                    // Slots move on failover or resharding: follow MOVED/ASK and refresh the view.
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .enableAllAdaptiveRefreshTriggers()
                            // Lettuce's default lets one adaptive refresh in per 30 s: the refresh done at
                            // start-up kept a failover of a master unseen until the periodic refresh.
                            .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                            .build())
                    .build());
            StatefulRedisClusterConnection<String, String> c = cluster.connect(StringCodec.UTF8);
            return new RedisLink(cluster, resources, c, c.async(), c, executor, errors);
        } catch (RuntimeException e) {
            if (opened != null) {
                opened.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            }
            executor.shutdownNow();
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof RedisCommandExecutionException x && isNoPermission(x)) {
                    throw new StoreRefusedException(String.format(NOPERM_MESSAGE, firstLine(x.getMessage())), e);
                }
            }
            // The URI may carry a password: never in a message.
            throw new StoreUnavailableException("cannot connect to Redis at " + uri.replaceAll("(://)[^@/,]*@", "$1****@"), e);
        }
    }

    /** Comma-separated URIs; a seed without a scheme borrows the first one's ("redis://a:1,b:2"). */
    static List<RedisURI> parse(String uri) {
        List<RedisURI> out = new ArrayList<>();
        String scheme = null;
        for (String part : uri.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int sep = p.indexOf("://");
            if (sep > 0) {
                scheme = p.substring(0, sep + 3);
            } else {
                p = (scheme == null ? "redis://" : scheme) + p;
            }
            out.add(RedisURI.create(p));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no Redis URI in '" + uri + "'");
        }
        return out;
    }

    boolean isCluster() {
        return clusterConnection != null;
    }

    /** False from the first infrastructure failure until a {@link #probe()} succeeds again. */
    boolean isAvailable() {
        return available;
    }

    /** PINGs Redis (every master of a cluster) and records whether it answered. */
    CompletableFuture<Boolean> probe() {
        CompletableFuture<?> ping = isCluster()
                ? send(c -> clusterConnection.async().upstream().commands().ping())
                : send(RedisClusterAsyncCommands::ping);
        return ping.handle((ok, failure) -> {
            available = failure == null;
            return available;
        });
    }

    /**
     * At start-up: runs a tiny script that writes and deletes a key under the broker's prefix in
     * each of the given slots. A missing permission fails with {@link StoreRefusedException} naming
     * it; an out-of-memory Redis only logs (it refuses writes with a clear reason until fixed).
     */
    void checkPermissions(String... probeKeys) {
        for (String key : probeKeys) {
            try {
                eval(Script.PROBE, ScriptOutputType.VALUE, new String[]{key}, "{\"value\":\"probe\"}").get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreUnavailableException("interrupted while checking the Redis permissions", e);
            } catch (ExecutionException e) {
                Throwable cause = unwrap(e);
                if (cause instanceof StoreRefusedException refused && isOutOfMemory(refused.getCause())) {
                    LOG.log(System.Logger.Level.WARNING, OOM_MESSAGE);
                    return;
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                throw new StoreUnavailableException("cannot check the Redis permissions", cause);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new StoreUnavailableException("Redis did not answer the permission check", e);
            }
        }
    }

    /** Runs one script by its SHA, sending its body once if this server does not know it yet. */
    <T> CompletableFuture<T> eval(Script script, ScriptOutputType type, String[] keys, String... args) {
        CompletableFuture<T> raw = this.<T>send(c -> c.evalsha(script.sha(), type, keys, args))
                .exceptionallyCompose(e -> isNoScript(e)
                        ? send(c -> c.eval(script.body(), type, keys, args))
                        : CompletableFuture.failedFuture(e));
        return translated(raw, script.name());
    }

    /** Any other command. */
    <T> CompletableFuture<T> call(Function<RedisClusterAsyncCommands<String, String>, ? extends CompletionStage<T>> command) {
        return translated(send(command), "command");
    }

    @Override
    public void close() {
        try {
            connection.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            executor.shutdown();
        }
    }

    // ---------------------------------------------------------------- internals

    /** Issues the command and completes on our executor, with Lettuce's own failure. */
    private <T> CompletableFuture<T> send(Function<RedisClusterAsyncCommands<String, String>, ? extends CompletionStage<T>> command) {
        CompletableFuture<T> out = new CompletableFuture<>();
        CompletionStage<T> sent;
        try {
            sent = command.apply(commands);
        } catch (RuntimeException e) {
            out.completeExceptionally(e);
            return out;
        }
        sent.whenCompleteAsync((value, failure) -> {
            if (failure != null) {
                out.completeExceptionally(failure);
            } else {
                out.complete(value);
            }
        }, executor);
        return out;
    }

    private <T> CompletableFuture<T> translated(CompletableFuture<T> raw, String what) {
        CompletableFuture<T> out = new CompletableFuture<>();
        raw.whenComplete((value, failure) -> {
            if (failure == null) {
                out.complete(value);
            } else {
                out.completeExceptionally(translate(unwrap(failure), what));
            }
        });
        return out;
    }

    private RuntimeException translate(Throwable e, String what) {
        // Before isBug: inside a script, these arrive wrapped in "Error running script".
        if (e instanceof RedisCommandExecutionException x && isOutOfMemory(x)) {
            errors.accept("OOM");
            warnRefusal(OOM_MESSAGE + ": " + x.getMessage());
            return new StoreRefusedException(OOM_MESSAGE, x);
        }
        if (e instanceof RedisCommandExecutionException x && isNoPermission(x)) {
            errors.accept("NOPERM");
            String message = String.format(NOPERM_MESSAGE, firstLine(x.getMessage()));
            warnRefusal(message);
            return new StoreRefusedException(message, x);
        }
        if (e instanceof RedisCommandExecutionException x && isBug(x)) {
            return new IllegalStateException("Redis refused " + what + ": " + x.getMessage(), x);
        }
        if (e instanceof RedisException || e instanceof java.io.IOException) {
            // Timeouts, refused or lost connections, LOADING/BUSY/READONLY/CLUSTERDOWN/TRYAGAIN, full
            // queue: the change did not happen or was not acknowledged; the caller may retry.
            if (available) {
                LOG.log(System.Logger.Level.WARNING, "Redis unavailable: {0}", e.toString());
            }
            available = false;
            errors.accept(e.getClass().getSimpleName());
            return new StoreUnavailableException("Redis is unavailable", e);
        }
        if (e instanceof RuntimeException r) {
            return r;
        }
        return new IllegalStateException(e);
    }

    /** A script that failed or keys in several slots: our mistake, not an outage. */
    private static boolean isBug(RedisCommandExecutionException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("user_script") || m.contains("Error running script") || m.startsWith("CROSSSLOT")
                || m.startsWith("WRONGTYPE") || m.startsWith("ERR wrong number of arguments");
    }

    private void warnRefusal(String message) {
        long now = System.nanoTime();
        long last = lastRefusalWarning.get();
        if (now - last >= REFUSAL_WARNING_EVERY_NANOS && lastRefusalWarning.compareAndSet(last, now)) {
            LOG.log(System.Logger.Level.WARNING, message + " (further refusals of this minute are only counted)");
        }
    }

    private static boolean isOutOfMemory(Throwable e) {
        return e != null && String.valueOf(e.getMessage()).contains("OOM command not allowed");
    }

    /** Redis 6.2 and 7 word these differently, at the top level and inside scripts. */
    private static boolean isNoPermission(RedisCommandExecutionException e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("NOPERM") || m.contains("-NOPERM") || m.contains("no permissions to")
                || m.contains("can't access at least one of the keys") || m.contains("can't run this command");
    }

    private static String firstLine(String message) {
        String m = String.valueOf(message);
        int script = m.indexOf(" script: ");
        return (script > 0 ? m.substring(0, script) : m).strip();
    }

    private static boolean isNoScript(Throwable e) {
        Throwable t = unwrap(e);
        return t instanceof RedisNoScriptException || String.valueOf(t.getMessage()).startsWith("NOSCRIPT");
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * Daemon threads for reply handling. A task refused after close runs on the caller, so every
     * stage still completes (with the failure that closing caused).
     */
    private static ThreadPoolExecutor newExecutor(int threads) {
        AtomicInteger n = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "redis-store-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, (task, pool) -> task.run());
    }
}
