package io.licensebroker.broker.grpc;

import io.licensebroker.broker.core.LicenseStore;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A real store (every verb runs the delegate) whose answers a test can hold back or fail, the way
 * a remote store would: a held call completes later on the thread that opens the gate, a failing
 * one completes exceptionally. Not a mock: nothing is scripted, only timing and faults change.
 * Built as a dynamic proxy so that it keeps up with verbs added to {@link LicenseStore}.
 */
final class ControllableStore {
    private final LicenseStore delegate;
    private final LicenseStore store;
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
    private volatile CompletableFuture<Void> entered = new CompletableFuture<>();
    private volatile RuntimeException fault;

    ControllableStore(LicenseStore delegate) {
        this.delegate = delegate;
        this.store = (LicenseStore) Proxy.newProxyInstance(LicenseStore.class.getClassLoader(),
                new Class<?>[] {LicenseStore.class}, (proxy, method, args) -> invoke(method, args));
    }

    /** The store to give the service. */
    LicenseStore store() {
        return store;
    }

    /** From now on every call waits for the returned future; {@link #entered()} completes on the first such call. */
    CompletableFuture<Void> hold() {
        entered = new CompletableFuture<>();
        gate = new CompletableFuture<>();
        return gate;
    }

    CompletableFuture<Void> entered() {
        return entered;
    }

    /** From now on every call fails with {@code failure} (null: stop failing). */
    void failWith(RuntimeException failure) {
        fault = failure;
    }

    private Object invoke(Method method, Object[] args) throws Throwable {
        if (!CompletionStage.class.isAssignableFrom(method.getReturnType())) {
            return call(method, args);
        }
        RuntimeException f = fault;
        if (f != null) {
            return CompletableFuture.failedFuture(f);
        }
        CompletableFuture<Void> g = gate;
        if (!g.isDone()) {
            entered.complete(null);
            return g.thenCompose(v -> {
                try {
                    return (CompletionStage<?>) call(method, args);
                } catch (Throwable t) {
                    return CompletableFuture.failedFuture(t);
                }
            });
        }
        return call(method, args);
    }

    private Object call(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
