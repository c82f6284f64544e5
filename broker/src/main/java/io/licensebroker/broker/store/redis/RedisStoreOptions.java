package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.StoreObserver;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How the Redis store reaches Redis and behaves. Built with {@link #builder}; every setting not
 * given takes its {@code DEFAULT_*}.
 *
 * @param uri                {@code redis://host:port}, or a comma list of Redis Cluster seeds (a
 *                           single server that reports cluster mode is used as a seed)
 * @param commandTimeout     every command fails after this long (and the call answers UNAVAILABLE)
 * @param timeSource         see {@link RedisStore.TimeSource}
 * @param tombstoneRetention how long a renew of an ended session still learns why it ended
 * @param reindexEvery       how often this node re-indexes every account for reaping: repairs the
 *                           index after a node died between a session's start and its index entry
 * @param maxQueuedCommands  commands waiting for a reply at most; more are refused at once
 * @param replyThreads       threads that handle replies (never Netty's)
 * @param observer           hears of leases the reaper ended, of lost state and re-admitted sessions
 * @param errors             hears the kind of every Redis failure (for an error counter)
 * @param learningPeriod     after Redis is found to have lost state, how long free licenses are kept
 *                           for the sessions granted before the loss (zero: not at all); at least
 *                           a lease, so that every such session's agent has renewed
 */
public record RedisStoreOptions(String uri, Duration commandTimeout, RedisStore.TimeSource timeSource, Duration tombstoneRetention,
                                Duration reindexEvery, int maxQueuedCommands, int replyThreads, StoreObserver observer,
                                Consumer<String> errors, Duration learningPeriod) {
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(500);
    public static final RedisStore.TimeSource DEFAULT_TIME_SOURCE = RedisStore.TimeSource.SERVER;
    public static final Duration DEFAULT_TOMBSTONE_RETENTION = Duration.ofMinutes(10);
    public static final Duration DEFAULT_REINDEX_EVERY = Duration.ofMinutes(1);
    public static final int DEFAULT_MAX_QUEUED_COMMANDS = 10_000;
    public static final Duration DEFAULT_LEARNING_PERIOD = Duration.ofMinutes(1);

    public RedisStoreOptions {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(observer, "observer");
        Objects.requireNonNull(errors, "errors");
        Objects.requireNonNull(timeSource, "timeSource");
        positive(commandTimeout, "commandTimeout");
        positive(tombstoneRetention, "tombstoneRetention");
        positive(reindexEvery, "reindexEvery");
        Objects.requireNonNull(learningPeriod, "learningPeriod");
        if (learningPeriod.isNegative()) {
            throw new IllegalArgumentException("learningPeriod cannot be negative: " + learningPeriod);
        }
        if (maxQueuedCommands < 1 || replyThreads < 1) {
            throw new IllegalArgumentException("maxQueuedCommands and replyThreads must be positive");
        }
    }

    /** The defaults, for Redis at {@code uri}; reply threads: the cores, at least two. */
    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    /** A builder that starts from these options. */
    public Builder toBuilder() {
        Builder b = new Builder(uri);
        b.commandTimeout = commandTimeout;
        b.timeSource = timeSource;
        b.tombstoneRetention = tombstoneRetention;
        b.reindexEvery = reindexEvery;
        b.maxQueuedCommands = maxQueuedCommands;
        b.replyThreads = replyThreads;
        b.observer = observer;
        b.errors = errors;
        b.learningPeriod = learningPeriod;
        return b;
    }

    private static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }

    public static final class Builder {
        private final String uri;
        private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
        private RedisStore.TimeSource timeSource = DEFAULT_TIME_SOURCE;
        private Duration tombstoneRetention = DEFAULT_TOMBSTONE_RETENTION;
        private Duration reindexEvery = DEFAULT_REINDEX_EVERY;
        private int maxQueuedCommands = DEFAULT_MAX_QUEUED_COMMANDS;
        private int replyThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private StoreObserver observer = StoreObserver.NONE;
        private Consumer<String> errors = kind -> { };
        private Duration learningPeriod = DEFAULT_LEARNING_PERIOD;

        private Builder(String uri) {
            this.uri = uri;
        }

        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = timeout;
            return this;
        }

        public Builder timeSource(RedisStore.TimeSource source) {
            this.timeSource = source;
            return this;
        }

        public Builder tombstoneRetention(Duration retention) {
            this.tombstoneRetention = retention;
            return this;
        }

        public Builder reindexEvery(Duration every) {
            this.reindexEvery = every;
            return this;
        }

        public Builder maxQueuedCommands(int max) {
            this.maxQueuedCommands = max;
            return this;
        }

        public Builder replyThreads(int threads) {
            this.replyThreads = threads;
            return this;
        }

        public Builder observer(StoreObserver storeObserver) {
            this.observer = storeObserver;
            return this;
        }

        public Builder errorCounter(Consumer<String> errorKinds) {
            this.errors = errorKinds;
            return this;
        }

        public Builder learningPeriod(Duration period) {
            this.learningPeriod = period;
            return this;
        }

        public RedisStoreOptions build() {
            return new RedisStoreOptions(uri, commandTimeout, timeSource, tombstoneRetention, reindexEvery, maxQueuedCommands,
                    replyThreads, observer, errors, learningPeriod);
        }
    }
}
