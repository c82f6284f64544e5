package io.licensebroker.loadtest;

import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.testkit.Scratch;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The four things compare measures, each started fresh for one run and stopped after it, so a run
 * never inherits another's heap, journal or Redis keys (and rounds can interleave them).
 */
final class Contenders {
    static final String FLOOR = "floor";
    static final String BROKER_MEMORY = "broker-memory";
    static final String BROKER_REDIS = "broker-redis";
    static final String REDISSON = "redisson";
    /** The order of a round: the floor first, so every contender's ratio has its round's floor. */
    static final List<String> ALL = List.of(FLOOR, BROKER_MEMORY, BROKER_REDIS, REDISSON);

    /**
     * How a contender is set up: {@code licenses} is the quota it grants (open loop and the renew
     * mix need more than one per agent); {@code leaseTtl} is the broker's lease, null = its default.
     */
    record Setup(int agents, int channels, boolean fsync, long licenses, Duration leaseTtl) {
    }

    /** What to do with a started contender. */
    interface Body<T> {
        T apply(LoadTarget target) throws Exception;
    }

    private Contenders() {
    }

    static <T> T with(String name, Setup setup, Body<T> body) throws Exception {
        switch (name) {
            case FLOOR -> {
                try (FloorServer floor = FloorServer.start();
                     BrokerTarget target = BrokerTarget.floor("127.0.0.1:" + floor.port(), setup.agents(), setup.channels())) {
                    return body.apply(target);
                }
            }
            case BROKER_MEMORY -> {
                try (Scratch data = Scratch.directory("license-loadtest-")) {
                    Map<Setting, String> settings = brokerSettings(setup, data);
                    settings.put(Setting.FSYNC, Boolean.toString(setup.fsync()));
                    return onBroker(settings, setup, body);
                }
            }
            case BROKER_REDIS -> {
                try (RedisServer redis = RedisServer.startTemporary();
                     Scratch data = Scratch.directory("license-loadtest-")) {
                    Map<Setting, String> settings = brokerSettings(setup, data);
                    settings.put(Setting.STORE, "redis");
                    settings.put(Setting.REDIS_URI, redis.uri());
                    return onBroker(settings, setup, body);
                }
            }
            case REDISSON -> {
                try (RedisServer redis = RedisServer.startTemporary();
                     RedissonTarget target = RedissonTarget.start(redis.uri(), setup.agents(), setup.licenses())) {
                    return body.apply(target);
                }
            }
            default -> throw new IllegalArgumentException("unknown contender " + name + "; known: " + ALL);
        }
    }

    private static Map<Setting, String> brokerSettings(Setup setup, Scratch data) {
        Map<Setting, String> settings = new HashMap<>();
        settings.put(Setting.DATA_DIR, data.toString());
        if (setup.leaseTtl() != null) {
            settings.put(Setting.LEASE_TTL, setup.leaseTtl().toMillis() + "ms");
        }
        return settings;
    }

    private static <T> T onBroker(Map<Setting, String> settings, Setup setup, Body<T> body) throws Exception {
        try (LocalNode broker = LocalNode.start(settings);
             BrokerTarget target = BrokerTarget.provision(broker.target(), broker.adminToken(), setup.agents(), setup.licenses(),
                     setup.channels())) {
            return body.apply(target);
        }
    }
}
