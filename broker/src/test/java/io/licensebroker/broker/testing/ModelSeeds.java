package io.licensebroker.broker.testing;

import io.licensebroker.testkit.RedisServer;

import java.util.stream.LongStream;

/**
 * Seeds and length of the randomized model and differential tests. {@code -Dmodel.seed=N} runs
 * only seed N, to replay a failure exactly (every random choice comes from the seed);
 * {@code -Dmodel.seeds=N} runs seeds 1..N and {@code -Dmodel.steps=N} makes each run N steps long,
 * for a longer hunt than CI affords.
 */
public final class ModelSeeds {
    public static final String PROPERTY = "model.seed";

    private ModelSeeds() {
    }

    public static LongStream orReplay(LongStream seeds) {
        String replay = System.getProperty(PROPERTY, "").trim();
        if (!replay.isEmpty()) {
            return LongStream.of(Long.parseLong(replay));
        }
        String count = System.getProperty("model.seeds", "").trim();
        return count.isEmpty() ? seeds : LongStream.rangeClosed(1, Long.parseLong(count));
    }

    /**
     * Seeds 1..{@code seeds} for a test on Redis; a quarter of them on the build's second pass over
     * the Redis tests (embedded-redis's bundled 6.2, {@link RedisServer#BINARY_PROPERTY}): that pass
     * checks the scripts on the older Redis, and the full budget is spent once, on the first.
     */
    public static LongStream onRedis(int seeds) {
        boolean secondPass = "bundled".equals(System.getProperty(RedisServer.BINARY_PROPERTY));
        return orReplay(LongStream.rangeClosed(1, secondPass ? Math.max(1, seeds / 4) : seeds));
    }

    public static int steps(int steps) {
        String override = System.getProperty("model.steps", "").trim();
        return override.isEmpty() ? steps : Integer.parseInt(override);
    }
}
