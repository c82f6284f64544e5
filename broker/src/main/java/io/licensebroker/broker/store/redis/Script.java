package io.licensebroker.broker.store.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One Lua script from {@code resources/redis}, with the SHA1 that EVALSHA names it by. Account
 * scripts get {@code common.lua} (named arguments, time, state-loss check, exactly-once replies)
 * and the libraries they need prepended, and their body becomes the function {@code finish} runs.
 */
record Script(String name, String body, String sha) {
    /** Session upkeep, for the scripts that start, end or list sessions. */
    private static final String SESSIONS_LIB = "sessions_lib";
    /** What the rules need counted, for the scripts that read it for a decision. */
    private static final String COUNTS_LIB = "counts_lib";
    /** Usage history upkeep, for the scripts that change in_use (and so for every user of SESSIONS_LIB). */
    private static final String HISTORY_LIB = "history_lib";

    static final Script ACCOUNT_CREATE = account("account_create");
    static final Script OBSERVE = account("observe", COUNTS_LIB);
    static final Script APPLY = account("apply", COUNTS_LIB, HISTORY_LIB, SESSIONS_LIB);
    static final Script ACQUIRE = account("acquire", HISTORY_LIB, SESSIONS_LIB);
    static final Script ACTIVATE = account("activate", HISTORY_LIB, SESSIONS_LIB);
    static final Script ACTIVATIONS = account("activations");
    static final Script RENEW = account("renew", HISTORY_LIB, SESSIONS_LIB);
    static final Script RELEASE = account("release", HISTORY_LIB, SESSIONS_LIB);
    static final Script REAP = account("reap", HISTORY_LIB, SESSIONS_LIB);
    static final Script SESSIONS = account("sessions", HISTORY_LIB, SESSIONS_LIB);
    static final Script SESSION = account("session", HISTORY_LIB, SESSIONS_LIB);
    static final Script SESSION_KEY = account("session_key");
    static final Script HISTORY = account("history", HISTORY_LIB);
    static final Script HISTORY_DENIED = account("history_denied", HISTORY_LIB);
    static final Script DENIALS = account("denials", HISTORY_LIB);
    static final Script ORG_RESERVE = global("global_org_reserve");
    static final Script CREDENTIAL_ADD = global("global_credential_add");
    static final Script DUE = global("global_due");
    static final Script CREDENTIAL_REVOKE = global("global_credential_revoke");
    static final Script PROBE = global("global_probe");

    /** The verb runs inside common.lua's {@code finish}, which adds what every reply carries. */
    private static Script account(String name, String... libraries) {
        StringBuilder body = new StringBuilder(resource("common")).append('\n');
        for (String library : libraries) {
            if (library.equals(HISTORY_LIB)) {
                // The steps as the core defines them, so that retention is written once (HistoryStep).
                body.append(RedisHistory.STEPS_LUA);
            }
            body.append(resource(library)).append('\n');
        }
        return of(name, body.append("return finish(function()\n").append(resource(name)).append("\nend)\n").toString());
    }

    private static Script global(String name) {
        return of(name, resource(name));
    }

    private static Script of(String name, String body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(body.getBytes(StandardCharsets.UTF_8));
            return new Script(name, body, HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }

    private static String resource(String name) {
        String path = "/redis/" + name + ".lua";
        try (InputStream in = Script.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read script resource " + path, e);
        }
    }
}
