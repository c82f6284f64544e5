package io.licensebroker.broker.core;

import java.util.Objects;
import java.util.function.Function;

/**
 * The result of a domain operation: granted with a value, or denied with a reason.
 * A refusal is a value, not an exception; exceptions are for bugs and infrastructure.
 */
public sealed interface Decision<T> permits Decision.Granted, Decision.Denied {

    static <T> Decision<T> granted(T value) {
        return new Granted<>(value);
    }

    static <T> Decision<T> denied(Reason reason, String detail) {
        return new Denied<>(reason, detail, null);
    }

    /** A denial caused by one request field (INVALID_ARGUMENT, NOT_FOUND of a referenced id...). */
    static <T> Decision<T> denied(Reason reason, String detail, String field) {
        return new Denied<>(reason, detail, field);
    }

    default boolean isGranted() {
        return this instanceof Granted;
    }

    /** The granted value; a bug to call on a denial. */
    default T value() {
        if (this instanceof Granted<T> g) {
            return g.value();
        }
        throw new IllegalStateException("not granted: " + this);
    }

    default <R> Decision<R> map(Function<? super T, ? extends R> f) {
        if (this instanceof Granted<T> g) {
            return new Granted<>(f.apply(g.value()));
        }
        Denied<T> d = (Denied<T>) this;
        return new Denied<>(d.reason(), d.detail(), d.field());
    }

    record Granted<T>(T value) implements Decision<T> {
    }

    record Denied<T>(Reason reason, String detail, String field) implements Decision<T> {
        public Denied {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }

        @SuppressWarnings("unchecked")
        public <R> Denied<R> cast() {
            return (Denied<R>) this;
        }
    }
}
