package io.licensebroker.broker.core;

/** Signs and verifies offline license files with the broker's key. */
public interface LicenseSigner {
    byte[] sign(byte[] data);

    boolean verify(byte[] data, byte[] signature);
}
