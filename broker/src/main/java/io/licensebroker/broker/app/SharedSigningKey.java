package io.licensebroker.broker.app;

import io.licensebroker.broker.core.LicenseSigner;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.redis.RedisStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletionStage;

/**
 * The offline signing key of nodes on Redis: one key pair in Redis ({@link RedisStore#sharedValue},
 * SET NX), re-read before every signature and verification and on every health probe. When Redis
 * lost it (a wipe), the first node to look publishes the key it holds, so files signed before the
 * wipe keep verifying everywhere; a node that finds another key than its own adopts it (and says so):
 * every node signs and verifies with the key Redis holds.
 */
final class SharedSigningKey implements LicenseSigner {
    static final String NAME = "offline-signing-key";
    private static final Logger LOG = LoggerFactory.getLogger(SharedSigningKey.class);

    /** The key and its encoding, swapped together. */
    private record Held(String encoded, Ed25519Signer signer) {
    }

    private final RedisStore redis;
    private volatile Held held;

    private SharedSigningKey(RedisStore redis, Held held) {
        this.redis = redis;
        this.held = held;
    }

    /** The key Redis holds, published by this node when there is none yet. Blocks (start-up). */
    static SharedSigningKey load(RedisStore redis) throws Exception {
        String encoded = redis.sharedValue(NAME, () -> Ed25519Signer.generate().encodeKeyPair())
                .toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        return new SharedSigningKey(redis, new Held(encoded, Ed25519Signer.decodeKeyPair(encoded)));
    }

    /** Re-reads the shared key; publishes this node's own when Redis has none. */
    @Override
    public CompletionStage<LicenseSigner> current() {
        Held mine = held;
        return redis.sharedValue(NAME, mine::encoded).thenApply(shared -> {
            Held now = held;
            if (shared.equals(now.encoded())) {
                return now.signer();
            }
            Held adopted = new Held(shared, Ed25519Signer.decodeKeyPair(shared));
            held = adopted;
            LOG.warn("the offline signing key in Redis is not the one this node held (Redis lost its data and another node"
                    + " published its key): adopting it; files signed with the previous key no longer verify");
            return adopted.signer();
        });
    }

    @Override
    public byte[] sign(byte[] data) {
        return held.signer().sign(data);
    }

    @Override
    public boolean verify(byte[] data, byte[] signature) {
        return held.signer().verify(data, signature);
    }
}
