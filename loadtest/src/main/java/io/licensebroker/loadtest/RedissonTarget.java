package io.licensebroker.loadtest;

import org.redisson.Redisson;
import org.redisson.api.RPermitExpirableSemaphore;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Redisson's {@code RPermitExpirableSemaphore} straight against Redis — what a Java team would use
 * instead of a broker: tryAcquire with a lease, renew the lease, release the permit.
 */
final class RedissonTarget implements LoadTarget {
    private static final long LEASE_SECONDS = 60;

    private final RedissonClient client;
    private final RPermitExpirableSemaphore semaphore;
    private final long quota;

    private RedissonTarget(RedissonClient client, RPermitExpirableSemaphore semaphore, long quota) {
        this.client = client;
        this.semaphore = semaphore;
        this.quota = quota;
    }

    static RedissonTarget start(String redisUri, int agents, long quota) {
        Config config = new Config();
        // Defaults as a team would take them, with a pool large enough for every agent at once.
        config.useSingleServer().setAddress(redisUri)
                .setConnectionPoolSize(Math.max(64, agents))
                .setConnectionMinimumIdleSize(Math.min(24, agents));
        RedissonClient client = Redisson.create(config);
        RPermitExpirableSemaphore semaphore = client.getPermitExpirableSemaphore("loadtest:" + UUID.randomUUID());
        semaphore.trySetPermits((int) quota);
        return new RedissonTarget(client, semaphore, quota);
    }

    @Override
    public CompletableFuture<Held> acquire(int agent) {
        return semaphore.tryAcquireAsync(0, LEASE_SECONDS, TimeUnit.SECONDS).toCompletableFuture().thenApply(permit -> {
            if (permit == null) {
                throw new Refused("no permit");
            }
            return new Held(permit);
        });
    }

    @Override
    public CompletableFuture<Void> renew(int agent, Held held) {
        return semaphore.updateLeaseTimeAsync(held.id(), LEASE_SECONDS, TimeUnit.SECONDS).toCompletableFuture().thenApply(ok -> null);
    }

    @Override
    public CompletableFuture<Void> release(int agent, Held held) {
        return semaphore.releaseAsync(held.id()).toCompletableFuture();
    }

    @Override
    public long quota() {
        return quota;
    }

    @Override
    public long inUse() {
        return quota - semaphore.availablePermits();
    }

    @Override
    public void close() {
        semaphore.delete();
        client.shutdown();
    }
}
