package io.licensebroker.client;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How to acquire a session: the product, an idempotency key, how long to wait for a free license,
 * and a listener for this session's lease. Immutable; {@link #defaults()} acquires a {@code KRE}
 * license with a generated request id and does not wait.
 *
 * <pre>{@code
 * AcquireOptions options = AcquireOptions.builder()
 *         .product("KRE")
 *         .requestId("job-4711")            // a retry of job 4711 never takes a second license
 *         .waitUpTo(Duration.ofMinutes(5))  // poll with jittered backoff while the pools are full
 *         .listener((session, reason) -> job.stop())
 *         .build();
 * }</pre>
 */
public final class AcquireOptions {
    private static final AcquireOptions DEFAULTS = builder().build();
    /** The broker's limit on request ids. */
    private static final int MAX_REQUEST_ID_LENGTH = 128;

    private final String product;
    private final String requestId;
    private final Duration waitUpTo;
    private final LeaseListener listener;

    private AcquireOptions(Builder b) {
        this.product = b.product;
        this.requestId = b.requestId;
        this.waitUpTo = b.waitUpTo;
        this.listener = b.listener;
    }

    public static AcquireOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The product code; empty means the broker's default ({@code KRE}). */
    public String product() {
        return product;
    }

    /** The idempotency key given, or empty when the SDK generates one per acquire. */
    public Optional<String> requestId() {
        return Optional.ofNullable(requestId);
    }

    /** How long acquire may wait for a license to free up; zero: refuse at once. */
    public Duration waitUpTo() {
        return waitUpTo;
    }

    /** The listener of this session's lease, if any. */
    public Optional<LeaseListener> listener() {
        return Optional.ofNullable(listener);
    }

    public static final class Builder {
        private String product = "";
        private String requestId;
        private Duration waitUpTo = Duration.ZERO;
        private LeaseListener listener;

        private Builder() {
        }

        /** Product code, e.g. {@code KRE}; empty means {@code KRE}. */
        public Builder product(String product) {
            this.product = Objects.requireNonNull(product, "product");
            return this;
        }

        /**
         * The idempotency key: the same key from the same user returns the same live session, never
         * a second license. Pass a key derived from the runtime's own unit of work (a job id) so a
         * restarted caller gets its license back; without one, the SDK generates a random UUID per
         * {@code acquire} call and reuses it for that call's retries.
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
         * When every pool is full (RESOURCE_EXHAUSTED), keep asking for up to this long, with
         * jittered exponential backoff, before throwing {@link LicenseDeniedException}. Also the
         * budget for riding out an unreachable broker.
         */
        public Builder waitUpTo(Duration waitUpTo) {
            Objects.requireNonNull(waitUpTo, "waitUpTo");
            if (waitUpTo.isNegative()) {
                throw new IllegalArgumentException("waitUpTo must not be negative: " + waitUpTo);
            }
            this.waitUpTo = waitUpTo;
            return this;
        }

        /** Hears about this session's lease (in addition to the client's listener). */
        public Builder listener(LeaseListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public AcquireOptions build() {
            return new AcquireOptions(this);
        }
    }
}
