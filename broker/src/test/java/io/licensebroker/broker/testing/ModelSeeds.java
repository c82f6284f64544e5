package io.licensebroker.broker.testing;

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

    public static int steps(int steps) {
        String override = System.getProperty("model.steps", "").trim();
        return override.isEmpty() ? steps : Integer.parseInt(override);
    }
}
