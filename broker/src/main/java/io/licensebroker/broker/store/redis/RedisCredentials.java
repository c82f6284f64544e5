package io.licensebroker.broker.store.redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.Role;
import io.lettuce.core.SetArgs;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * API keys and admin tokens in Redis: one global hash of salted hashes, and the credentials epoch
 * ({@link Keys#CREDENTIAL_EPOCH}). Credentials are cached (bounded) with the epoch they were read
 * under; every lookup reads the epoch (one GET) and uses the cached entry only while it is
 * unchanged. Adding and revoking a credential replace the epoch in the same script, so every node
 * refuses a revoked credential from its very next call, and a Redis that lost data (a wipe: no
 * epoch at all; a failover or restore that lost recent writes: an older epoch) matches no cached entry.
 */
final class RedisCredentials {
    private static final String NULL = "~";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    /** A credential and the credentials epoch it was read under. */
    private record Cached(String epoch, Credential credential) {
    }

    private final RedisLink link;
    private final ScriptRunner scripts;
    private final AccountConfigs configs;
    private final SecureRandom random = new SecureRandom();
    private final Cache<String, Cached> cache = Caffeine.newBuilder().maximumSize(100_000).build();

    RedisCredentials(RedisLink link, ScriptRunner scripts, AccountConfigs configs) {
        this.link = link;
        this.scripts = scripts;
        this.configs = configs;
    }

    CompletableFuture<Decision<Credential>> add(Credential credential) {
        boolean superAdmin = credential.role() == Role.SUPER_ADMIN;
        // Accounts are never deleted, so "the account exists" stays true once read: checking it,
        // then writing the global credential, cannot store a key for a missing account.
        CompletableFuture<Decision<Credential>> accountCheck = superAdmin
                ? completedFuture(Decision.granted(credential))
                : configs.observe(credential.accountId(), null, List.of(), false).thenApply(observed -> observed != null
                        ? Decision.granted(credential)
                        : Refusals.accountNotFound(credential.accountId()));
        return accountCheck.thenCompose(check -> {
            if (!check.isGranted()) {
                return completedFuture(check);
            }
            return scripts.global(Script.CREDENTIAL_ADD, new String[]{Keys.CREDENTIALS, Keys.SUPER_ADMIN, Keys.CREDENTIAL_EPOCH},
                            ScriptRunner.request().put("id", credential.lookupId()).put("encoded", encode(credential))
                                    .put("super_admin", superAdmin).put("epoch", newEpoch()))
                    .thenApply(x -> check);
        });
    }

    CompletableFuture<Optional<Credential>> find(String lookupId) {
        // The epoch is read before the credential: a revocation between the two reads replaces the
        // epoch, so an entry cached here under the old one is never used again.
        return link.<String>call(c -> c.get(Keys.CREDENTIAL_EPOCH)).thenCompose(epoch -> {
            Cached cached = cache.getIfPresent(lookupId);
            if (cached != null && epoch != null && epoch.equals(cached.epoch())) {
                return completedFuture(Optional.of(cached.credential()));
            }
            if (epoch == null) {
                // First use, or Redis lost its data: start an epoch so that caching resumes. NX: a
                // concurrent revocation's epoch is never overwritten.
                String fresh = newEpoch();
                link.<String>call(c -> c.set(Keys.CREDENTIAL_EPOCH, fresh, SetArgs.Builder.nx()))
                        .whenComplete((v, e) -> { });
            }
            return link.<String>call(c -> c.hget(Keys.CREDENTIALS, lookupId)).thenApply(encoded -> {
                if (encoded == null) {
                    cache.invalidate(lookupId);
                    return Optional.<Credential>empty();
                }
                Credential found = decode(lookupId, encoded);
                if (epoch != null) {
                    cache.put(lookupId, new Cached(epoch, found));
                }
                return Optional.of(found);
            });
        });
    }

    CompletableFuture<Decision<Credential>> revoke(String lookupId) {
        return scripts.global(Script.CREDENTIAL_REVOKE, new String[]{Keys.CREDENTIALS, Keys.CREDENTIAL_EPOCH},
                        ScriptRunner.request().put("id", lookupId).put("epoch", newEpoch()))
                .thenApply(reply -> {
                    cache.invalidate(lookupId);
                    if (!"revoked".equals(ScriptRunner.outcome(reply))) {
                        return Refusals.<Credential>credentialNotFound(lookupId);
                    }
                    return Decision.granted(decode(lookupId, reply.path("encoded").asText()));
                });
    }

    CompletableFuture<Boolean> hasSuperAdmin() {
        return link.<Long>call(c -> c.exists(Keys.SUPER_ADMIN)).thenApply(n -> n > 0);
    }

    private String newEpoch() {
        return Ids.random(random, 24);
    }

    /**
     * "role|account|user|salt|hash", each text field base64url ("~" for null), and "|org" for an
     * ORGANIZATION_ADMIN token only: records written before that role have five fields and still decode.
     */
    static String encode(Credential c) {
        String encoded = c.role().name() + '|' + text(c.accountId()) + '|' + text(c.userId()) + '|'
                + B64.encodeToString(c.salt()) + '|' + B64.encodeToString(c.secretHash());
        return c.orgId() == null ? encoded : encoded + '|' + text(c.orgId());
    }

    static Credential decode(String lookupId, String encoded) {
        String[] f = encoded.split("\\|", -1);
        if (f.length != 5 && f.length != 6) {
            throw new IllegalStateException("malformed stored credential " + lookupId);
        }
        return new Credential(lookupId, B64D.decode(f[3]), B64D.decode(f[4]), Role.valueOf(f[0]), untext(f[1]), untext(f[2]),
                f.length == 6 ? untext(f[5]) : null);
    }

    private static String text(String s) {
        return s == null ? NULL : B64.encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String untext(String s) {
        return NULL.equals(s) ? null : new String(B64D.decode(s), StandardCharsets.UTF_8);
    }
}
