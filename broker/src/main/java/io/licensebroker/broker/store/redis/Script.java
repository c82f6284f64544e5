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
 * scripts get {@code common.lua} (argument conventions and shared rules) prepended, and their
 * body becomes the function common.lua's {@code finish} runs.
 */
record Script(String name, String body, String sha) {

    static final Script ACCOUNT_CREATE = account("account_create");
    static final Script SUBSCRIPTION_SET = account("subscription_set");
    static final Script ORG_CREATE = account("org_create");
    static final Script DEDICATED_SET = account("dedicated_set");
    static final Script USER_UPSERT = account("user_upsert");
    static final Script POLICY_SET = account("policy_set");
    static final Script ACQUIRE = account("acquire");
    static final Script RENEW = account("renew");
    static final Script RELEASE = account("release");
    static final Script TERMINATE = account("terminate");
    static final Script MACHINE_DEACTIVATE = account("machine_deactivate");
    static final Script OFFLINE_ISSUE = account("offline_issue");
    static final Script REAP = account("reap");
    static final Script READ = account("read");
    static final Script SESSIONS = account("sessions");
    static final Script SESSION_KEY = account("session_key");
    static final Script ORG_RESERVE = global("global_org_reserve");
    static final Script CREDENTIAL_ADD = global("global_credential_add");
    static final Script DUE = global("global_due");
    static final Script CREDENTIAL_REVOKE = global("global_credential_revoke");
    static final Script PROBE = global("global_probe");

    /** The verb runs inside common.lua's {@code finish}, which adds what every reply carries. */
    private static Script account(String name) {
        return of(name, resource("common") + "\nreturn finish(function()\n" + resource(name) + "\nend)\n");
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
