package io.licensebroker.broker.offline;

import io.licensebroker.broker.core.LicenseSigner;
import io.licensebroker.broker.store.DurableFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/** Signs offline license files with Ed25519 (JDK); the key pair lives on disk, or in the store nodes share. */
public final class Ed25519Signer implements LicenseSigner {
    static final String PRIVATE_KEY_FILE = "offline-signing.key";
    static final String PUBLIC_KEY_FILE = "offline-signing.pub";

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private Ed25519Signer(KeyPair keys) {
        this.privateKey = keys.getPrivate();
        this.publicKey = keys.getPublic();
    }

    /** A fresh key that lives only in memory. */
    public static Ed25519Signer generate() {
        try {
            return new Ed25519Signer(KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every JDK since 15", e);
        }
    }

    /**
     * The key pair as text ("base64 PKCS#8 private key" '.' "base64 X.509 public key"), for a key
     * that nodes share through their store instead of a file (see {@link #decodeKeyPair}).
     */
    public String encodeKeyPair() {
        Base64.Encoder b64 = Base64.getEncoder();
        return b64.encodeToString(privateKey.getEncoded()) + '.' + b64.encodeToString(publicKey.getEncoded());
    }

    /** The key pair of {@link #encodeKeyPair()}. */
    public static Ed25519Signer decodeKeyPair(String text) {
        int dot = text.indexOf('.');
        if (dot < 0) {
            throw new IllegalArgumentException("not an encoded key pair");
        }
        try {
            Base64.Decoder b64 = Base64.getDecoder();
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            PrivateKey priv = factory.generatePrivate(new PKCS8EncodedKeySpec(b64.decode(text.substring(0, dot))));
            PublicKey pub = factory.generatePublic(new X509EncodedKeySpec(b64.decode(text.substring(dot + 1))));
            return new Ed25519Signer(new KeyPair(pub, priv));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the shared offline signing key is not an Ed25519 key pair", e);
        }
    }

    /**
     * The key pair in {@code dir}, created (owner-readable only) on first use. Both files are
     * written durably and atomically (public first), so a crash leaves both, only the public one
     * (a key never used: made again), or neither, plus at most a temporary file that is removed here.
     */
    public static Ed25519Signer loadOrCreate(Path dir) {
        Path privatePath = dir.resolve(PRIVATE_KEY_FILE);
        Path publicPath = dir.resolve(PUBLIC_KEY_FILE);
        try {
            Files.createDirectories(dir);
            DurableFiles.deleteLeftovers(dir);
            if (Files.exists(privatePath) && Files.exists(publicPath)) {
                KeyFactory factory = KeyFactory.getInstance("Ed25519");
                PrivateKey priv = factory.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(privatePath)));
                PublicKey pub = factory.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(publicPath)));
                return new Ed25519Signer(new KeyPair(pub, priv));
            }
            if (Files.exists(privatePath)) {
                // Never written so (the public file goes first): someone removed it. A new key
                // would invalidate every license signed with the one that is there.
                throw new IllegalStateException("the offline signing key " + privatePath + " is there but " + publicPath
                        + " is missing: restore it from a backup (a new key would invalidate every offline license issued)");
            }
            Ed25519Signer created = generate();
            DurableFiles.write(publicPath, created.publicKey.getEncoded(), false);
            DurableFiles.write(privatePath, created.privateKey.getEncoded(), true);
            return created;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the offline signing key in " + dir, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the offline signing key " + privatePath + " / " + publicPath
                    + " is damaged or not an Ed25519 key (" + e.getMessage() + "): restore both files from a backup;"
                    + " do not delete them, a new key invalidates every offline license issued", e);
        }
    }

    @Override
    public byte[] sign(byte[] data) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the offline signing key", e);
        }
    }

    @Override
    public boolean verify(byte[] data, byte[] signature) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(publicKey);
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
