package io.licensebroker.broker.store.redis;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.app.BrokerSettings;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Refusals of Redis that only its operator can fix: out of memory (maxmemory with noeviction)
 * and an ACL user without the permissions the broker needs. Each is answered UNAVAILABLE
 * STORE_UNAVAILABLE with a message saying what to fix (not INTERNAL, not a bare "retry later"),
 * and a missing permission stops the start with one line naming it.
 */
class RedisRefusalsTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-refusals");
    private RedisNodes nodes;

    @AfterEach
    void restore() {
        REDIS.server().with(c -> c.sync().configSet("maxmemory", "0"));
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void outOfMemoryRefusesWritesWithTheReasonWhileReadsWorkAndWritesResumeOnceMemoryIsRaised() {
        nodes = RedisNodes.start(REDIS.uri(), 1, Duration.ofSeconds(60));
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "AC-oom");
        String key = account.apiKeys().get("free");
        AcquireSessionResponse held = acquire(key, "m-1");

        REDIS.server().with(c -> {
            c.sync().configSet("maxmemory-policy", "noeviction");
            c.sync().configSet("maxmemory", "1");
        });
        assertOutOfMemory(() -> acquire(key, "m-2"), "an acquire");
        assertOutOfMemory(() -> nodes.admin(0).createAccount(CreateAccountRequest.newBuilder().setAccountId("AC-new")
                .setName("new").build()), "an admin change");
        // Reads (and authentication) still work.
        assertEquals(1, nodes.usage(0, account.account()).getRowsList().stream().mapToLong(r -> r.getInUse()).sum());
        assertEquals(3, nodes.admin(0).listUsers(ListUsersRequest.newBuilder().setAccountId(account.account()).build())
                .getUsersCount());

        REDIS.server().with(c -> c.sync().configSet("maxmemory", "0"));
        acquire(key, "m-3");
        assertTrue(nodes.agent(0, key).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(held.getSessionId())
                .build()).getReleased());
    }

    @Test
    void aUserWithoutScriptingStopsTheStartWithOneLineNamingIt() {
        aclUser("noscript", "~lb:*", "+@all", "-@scripting");
        String message = refusedStart("noscript");
        assertTrue(message.contains("NOPERM") && message.contains("evalsha"), message);
        assertTrue(message.contains("@scripting") && message.contains("~lb:*"), "says what to grant: " + message);
    }

    @Test
    void aUserWithoutTheKeysStopsTheStart() {
        aclUser("nokeys", "~other:*", "+@all");
        String message = refusedStart("nokeys");
        assertTrue(message.contains("keys") && message.contains("~lb:*"), message);
    }

    @Test
    void theRecommendedUserStartsAndAPermissionLostLaterIsAnsweredWithWhatToFix() {
        aclUser("broker", "~lb:*", "+@all");
        nodes = RedisNodes.start(REDIS.uri(), 0, Duration.ofSeconds(60));
        nodes.add(userUri("broker"));
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "AC-acl");
        acquire(account.apiKeys().get("free"), "m-1");

        aclUser("broker", "-@scripting");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> acquire(account.apiKeys().get("free"), "m-2"));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertEquals("STORE_UNAVAILABLE", RedisNodes.reason(e));
        assertTrue(e.getStatus().getDescription().contains("@scripting"), e.getStatus().getDescription());
    }

    // ---------------------------------------------------------------- helpers

    private AcquireSessionResponse acquire(String key, String machine) {
        return nodes.agent(0, key).acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machine).build());
    }

    private static void assertOutOfMemory(Executable call, String what) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call, what);
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), what + ": " + e.getStatus());
        assertEquals("STORE_UNAVAILABLE", RedisNodes.reason(e), what);
        String message = e.getStatus().getDescription();
        assertTrue(message.contains("out of memory") && message.contains("maxmemory"), what + ": " + message);
    }

    private String refusedStart(String user) {
        nodes = RedisNodes.start(REDIS.uri(), 0, Duration.ofSeconds(60));
        BrokerSettings.InvalidSettingsException e = assertThrows(BrokerSettings.InvalidSettingsException.class,
                () -> nodes.add(userUri(user)));
        assertEquals(0, nodes.size(), "no node started");
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static String userUri(String user) {
        return "redis://" + user + ":pw@127.0.0.1:" + REDIS.server().port();
    }

    private static void aclUser(String name, String... rules) {
        REDIS.server().with(c -> {
            CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(name).add("on").add(">pw");
            for (String rule : rules) {
                args.add(rule);
            }
            c.sync().dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args);
        });
    }
}
