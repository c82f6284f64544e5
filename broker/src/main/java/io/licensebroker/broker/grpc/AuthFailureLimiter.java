package io.licensebroker.broker.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.licensebroker.broker.core.LicenseService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts failed authentications so that a guesser is slowed and told to stop, without ever
 * locking out the rightful holder of a credential.
 *
 * <p>Failures are counted per credential, by the token's public lookup id, so that guesses at one
 * key are limited wherever they come from; tokens that are not broker tokens at all (no lookup id:
 * garbage, or guesses at the bootstrap token) are counted per remote address instead. Once a key
 * has {@link #limit} failures with no gap of {@link #WINDOW} between them, further failed calls
 * under it are answered RESOURCE_EXHAUSTED TOO_MANY_FAILED_AUTHENTICATIONS instead of
 * UNAUTHENTICATED, until a whole {@link #WINDOW} passes without a counted failure. The check comes
 * after the credential is verified and applies to failures only: a correct token is accepted
 * whatever was guessed under its key or from its address. Refused calls are not counted, so the
 * cool-down ends on its own even while the guesser keeps trying. Successes do not count.
 *
 * <p>A refused guess costs what any call costs: nothing from the store for a token that is not a
 * broker token (the bootstrap token is compared in memory), one credential read for one that is.
 *
 * <p>Memory is bounded: at most {@link #MAX_KEYS} keys are tracked, the least recently used
 * dropped first, so an attacker spraying random lookup ids cannot grow the map without bound.
 */
final class AuthFailureLimiter {
    static final Duration WINDOW = Duration.ofMinutes(1);
    static final int DEFAULT_LIMIT = 20;
    static final int MAX_KEYS = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(AuthFailureLimiter.class);

    private final int limit;
    private final Cache<String, AtomicInteger> failures;

    AuthFailureLimiter() {
        this(DEFAULT_LIMIT, Ticker.systemTicker());
    }

    AuthFailureLimiter(int limit, Ticker ticker) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        this.limit = limit;
        this.failures = Caffeine.newBuilder()
                .maximumSize(MAX_KEYS)
                .expireAfterWrite(WINDOW)
                .ticker(Objects.requireNonNull(ticker, "ticker"))
                .build();
    }

    /** The key failures of {@code token} from {@code peer} are counted under. */
    static String keyOf(String token, String peer) {
        return LicenseService.lookupIdOf(token).map(id -> "key:" + id).orElseGet(() -> "peer:" + peer);
    }

    /** Whether failed calls under {@code key} are refused RESOURCE_EXHAUSTED for now. */
    boolean blocked(String key) {
        AtomicInteger count = failures.getIfPresent(key);
        return count != null && count.get() >= limit;
    }

    /** Counts one failed authentication under {@code key}; a write, so the key's window starts again. */
    void failed(String key) {
        AtomicInteger count = failures.asMap().compute(key, (k, c) -> {
            AtomicInteger next = c == null ? new AtomicInteger() : c;
            next.incrementAndGet();
            return next;
        });
        if (count.get() == limit) {
            // The key is a lookup id or an address, never a secret.
            LOG.atWarn().setMessage("too many failed authentications; refusing for a while")
                    .addKeyValue("key", key).addKeyValue("cooldown", WINDOW).log();
        }
    }
}
