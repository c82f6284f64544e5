package io.licensebroker.client;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A seat of a seat product activated on this machine ({@link LicenseBrokerClient#activate}); the
 * broker lists it under "Online Licenses".
 *
 * <pre>{@code
 * try (Activation seat = client.activate(machineId, ActivateOptions.builder().product("KSE").build())) {
 *     runTheApplication();   // FLOATING: the SDK keeps the lease alive meanwhile
 * }                          // FLOATING: the seat is free for another machine, released exactly once
 * }</pre>
 *
 * <ul>
 *   <li>{@link Kind#FLOATING}: the activation is a lease, held by a {@link LicenseSession}
 *       ({@link #lease()}) exactly like an acquired session: it renews itself at the broker's
 *       renew interval, reports a lost lease once to the {@link LeaseListener}s (with the lease's
 *       session id, which is this activation's id; {@code SESSION_TERMINATED} when an admin removed
 *       or transferred the seat, or another machine took it over), and {@link #close()} releases it
 *       exactly once. The client's {@link LicenseBrokerClient#sessions()} lists the lease, and
 *       closing the client releases it.</li>
 *   <li>{@link Kind#NODE_LOCKED}: the seat is bound to this machine until an admin deactivates the
 *       machine (or removes the seat); there is no lease to renew, nothing is lost while the broker
 *       is away, and {@link #close()} gives nothing back: it only marks this handle closed.
 *       Activating again on the same machine answers the same activation.</li>
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class Activation implements AutoCloseable {
    /** How the seat is used: the product's license model. */
    public enum Kind { NODE_LOCKED, FLOATING }

    private final String activationId;
    private final String product;
    private final String machineId;
    private final String userId;
    private final String poolId;
    private final Instant activatedAt;
    /** Null for a node-locked binding. */
    private final LicenseSession lease;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Activation(io.licensebroker.proto.v1.Activation granted, String product, LicenseSession lease) {
        this.activationId = granted.getActivationId();
        this.product = product;
        this.machineId = granted.getMachineId();
        this.userId = granted.getUserId();
        this.poolId = granted.getPoolId();
        this.activatedAt = granted.hasActivatedAt()
                ? Instant.ofEpochSecond(granted.getActivatedAt().getSeconds(), granted.getActivatedAt().getNanos()) : null;
        this.lease = lease;
    }

    /** A floating activation, held by its lease (already renewing). */
    static Activation floating(io.licensebroker.proto.v1.Activation granted, String product, LicenseSession lease) {
        return new Activation(granted, product, lease);
    }

    /** A node-locked binding: nothing to renew. */
    static Activation nodeLocked(io.licensebroker.proto.v1.Activation granted, String product) {
        return new Activation(granted, product, null);
    }

    /** The broker's id of the activation (as {@code activations list} shows it). */
    public String activationId() {
        return activationId;
    }

    public Kind kind() {
        return lease == null ? Kind.NODE_LOCKED : Kind.FLOATING;
    }

    /** The lease of a floating activation; empty for a node-locked one. */
    public Optional<LicenseSession> lease() {
        return Optional.ofNullable(lease);
    }

    /** The product code the seat was activated for, as given (empty means the broker's default). */
    public String product() {
        return product;
    }

    public String machineId() {
        return machineId;
    }

    /** The licensed user whose seat this is (the API key's user). */
    public String userId() {
        return userId;
    }

    /** The pool the seat counts in; for a floating activation, as its lease last reported. */
    public String poolId() {
        return lease == null ? poolId : lease.poolId();
    }

    /** When the seat was activated (a node-locked one: when it was bound to the machine). */
    public Optional<Instant> activatedAt() {
        return Optional.ofNullable(activatedAt);
    }

    /** When a floating activation's lease ends unless renewed; empty for a node-locked one. */
    public Optional<Instant> leaseExpiresAt() {
        return lease == null ? Optional.empty() : Optional.of(lease.leaseExpiresAt());
    }

    /**
     * FLOATING: true until closed or the lease is lost. NODE_LOCKED: true until closed (the SDK
     * cannot see an admin deactivating the machine; the next activate tells).
     */
    public boolean isActive() {
        return lease == null ? !closed.get() : lease.isActive();
    }

    /** Why a floating activation's lease was lost ({@link LeaseListener#onLost}); empty otherwise. */
    public Optional<String> lossReason() {
        return lease == null ? Optional.empty() : lease.lossReason();
    }

    /**
     * FLOATING: releases the lease, exactly once (as {@link LicenseSession#close()}; never throws).
     * NODE_LOCKED: releases nothing, since the binding is the license: it stays until an admin
     * deactivates the machine.
     */
    @Override
    public void close() {
        closed.set(true);
        if (lease != null) {
            lease.close();
        }
    }

    @Override
    public String toString() {
        return "Activation[" + activationId + ", " + kind().name().toLowerCase(java.util.Locale.ROOT) + ", machine " + machineId
                + ", pool " + poolId() + (isActive() ? ", active" : ", ended") + "]";
    }
}
