package io.licensebroker.broker.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Signs and verifies offline license files with the broker's key. */
public interface LicenseSigner {
    /**
     * The signer to use now. A key that nodes share through their store may change under a node
     * (the store lost it and another node published its own): this re-reads it. The default is a
     * key that never changes.
     */
    default CompletionStage<LicenseSigner> current() {
        return CompletableFuture.completedFuture(this);
    }

    byte[] sign(byte[] data);

    boolean verify(byte[] data, byte[] signature);
}
