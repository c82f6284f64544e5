package io.licensebroker.client;

import java.util.Objects;
import java.util.Optional;

/**
 * How to activate a seat: the product, an idempotency key, whether to take the seat over from
 * another machine, and a listener for a floating activation's lease. Immutable;
 * {@link #defaults()} activates the default product with a generated request id, without take-over.
 *
 * <pre>{@code
 * ActivateOptions options = ActivateOptions.builder()
 *         .product("KSE")
 *         .takeOver(true)                          // floating: end the seat's activation on another machine
 *         .listener((lease, reason) -> app.lockUi())
 *         .build();
 * }</pre>
 */
public final class ActivateOptions {
    private static final ActivateOptions DEFAULTS = builder().build();
    /** The broker's limit on request ids. */
    private static final int MAX_REQUEST_ID_LENGTH = 128;

    private final String product;
    private final String requestId;
    private final boolean takeOver;
    private final LeaseListener listener;

    private ActivateOptions(Builder b) {
        this.product = b.product;
        this.requestId = b.requestId;
        this.takeOver = b.takeOver;
        this.listener = b.listener;
    }

    public static ActivateOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The product code; empty means the broker's default ({@code KRE}, a session product: name the seat product). */
    public String product() {
        return product;
    }

    /** The idempotency key given, or empty when the SDK generates one per activate. */
    public Optional<String> requestId() {
        return Optional.ofNullable(requestId);
    }

    /** Whether a floating activation takes the seat over from another machine. */
    public boolean takeOver() {
        return takeOver;
    }

    /** The listener of a floating activation's lease, if any. */
    public Optional<LeaseListener> listener() {
        return Optional.ofNullable(listener);
    }

    public static final class Builder {
        private String product = "";
        private String requestId;
        private boolean takeOver;
        private LeaseListener listener;

        private Builder() {
        }

        /** Product code of a seat product, e.g. {@code KSE}. */
        public Builder product(String product) {
            this.product = Objects.requireNonNull(product, "product");
            return this;
        }

        /**
         * The idempotency key sent with every attempt of one activate call. Activations are
         * idempotent per machine anyway (activating again on the machine that holds the seat
         * answers the same activation); without one, the SDK generates a random UUID per call.
         */
        public Builder requestId(String requestId) {
            Objects.requireNonNull(requestId, "requestId");
            if (requestId.isEmpty() || requestId.length() > MAX_REQUEST_ID_LENGTH) {
                throw new IllegalArgumentException("requestId must be 1.." + MAX_REQUEST_ID_LENGTH + " characters");
            }
            this.requestId = requestId;
            return this;
        }

        /**
         * FLOATING: when the seat is in use on another machine, end that activation (its next
         * renewal answers {@code SESSION_TERMINATED}) instead of being refused {@code SEAT_IN_USE}.
         * A node-locked seat cannot be taken over: an admin deactivates its machine.
         */
        public Builder takeOver(boolean takeOver) {
            this.takeOver = takeOver;
            return this;
        }

        /** Hears about a floating activation's lease (in addition to the client's listener). */
        public Builder listener(LeaseListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public ActivateOptions build() {
            return new ActivateOptions(this);
        }
    }
}
