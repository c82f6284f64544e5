package io.licensebroker.broker.testing;

import java.util.stream.LongStream;

/**
 * The seeds of the randomized model and differential tests: their own list, or only the one given
 * with {@code -Dmodel.seed=N} to replay a failure exactly (every random choice comes from the seed).
 */
public final class ModelSeeds {
    public static final String PROPERTY = "model.seed";

    private ModelSeeds() {
    }

    public static LongStream orReplay(LongStream seeds) {
        String replay = System.getProperty(PROPERTY, "").trim();
        return replay.isEmpty() ? seeds : LongStream.of(Long.parseLong(replay));
    }
}
