package io.licensebroker.loadtest;

import java.util.concurrent.CompletableFuture;

/**
 * What the driver loads: something that grants and takes back licenses. The broker over gRPC, the
 * no-op gRPC floor and Redisson's semaphore all fit, so they are measured by the same driver.
 */
interface LoadTarget extends AutoCloseable {

    /** A license held by an agent; {@code id} is what release needs. */
    record Held(String id) {
    }

    /** Completes with the license, or exceptionally (a refusal or a failure). */
    CompletableFuture<Held> acquire(int agent);

    CompletableFuture<Void> renew(int agent, Held held);

    CompletableFuture<Void> release(int agent, Held held);

    /** Licenses the target may hand out at once (for the oversubscription check). */
    long quota();

    /** Licenses the target counts as in use now (after a run: must be 0); -1 when unknown. */
    long inUse() throws Exception;

    @Override
    void close();
}
