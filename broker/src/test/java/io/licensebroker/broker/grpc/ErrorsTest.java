package io.licensebroker.broker.grpc;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.grpc.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The refusal mapper, and how infrastructure failures and late answers reach clients. */
final class ErrorsTest {

    /** The contract's table, written out independently of the mapper. */
    private static final Map<Reason, Status.Code> CONTRACT = new EnumMap<>(Reason.class);

    static {
        for (Reason r : EnumSet.of(Reason.NO_LICENSE_AVAILABLE, Reason.ORGANIZATION_POOL_EXHAUSTED, Reason.MACHINE_QUOTA_EXCEEDED)) {
            CONTRACT.put(r, Status.Code.RESOURCE_EXHAUSTED);
        }
        // Section 5 (seats) adds NOT_LICENSED, SEAT_IN_USE, LICENSE_MODEL_MISMATCH and OFFLINE_BOUND.
        for (Reason r : EnumSet.of(Reason.SUBSCRIPTION_EXPIRED, Reason.NO_SUBSCRIPTION, Reason.INSUFFICIENT_LICENSES, Reason.BELOW_IN_USE,
                Reason.NOT_LICENSED, Reason.SEAT_IN_USE, Reason.LICENSE_MODEL_MISMATCH, Reason.OFFLINE_BOUND)) {
            CONTRACT.put(r, Status.Code.FAILED_PRECONDITION);
        }
        for (Reason r : EnumSet.of(Reason.SESSION_EXPIRED, Reason.SESSION_TERMINATED, Reason.SESSION_NOT_FOUND, Reason.ACCOUNT_NOT_FOUND,
                Reason.ORGANIZATION_NOT_FOUND, Reason.USER_NOT_FOUND, Reason.MACHINE_NOT_FOUND, Reason.CREDENTIAL_NOT_FOUND)) {
            CONTRACT.put(r, Status.Code.NOT_FOUND);
        }
        CONTRACT.put(Reason.INVALID_ARGUMENT, Status.Code.INVALID_ARGUMENT);
        CONTRACT.put(Reason.ALREADY_EXISTS, Status.Code.ALREADY_EXISTS);
        CONTRACT.put(Reason.PERMISSION_DENIED, Status.Code.PERMISSION_DENIED);
        // Added by us: retryable, like every UNAVAILABLE.
        CONTRACT.put(Reason.STORE_RECOVERING, Status.Code.UNAVAILABLE);
    }

    @Test
    void everyReasonMapsToTheContractsCode() {
        assertEquals(EnumSet.allOf(Reason.class), CONTRACT.keySet(), "a new Reason needs a row here");
        for (Reason reason : Reason.values()) {
            StatusRuntimeException e = Errors.denied(new Decision.Denied<>(reason, "because", "some_field"));
            assertEquals(CONTRACT.get(reason), e.getStatus().getCode(), reason.name());
            ErrorInfo info = Refusals.errorInfo(e);
            assertEquals("licensebroker", info.getDomain());
            assertEquals(reason.name(), info.getReason());
            assertEquals(Map.of("field", "some_field"), info.getMetadataMap());
            assertEquals("because", e.getStatus().getDescription());
        }
    }

    @Test
    void aDenialWithoutFieldHasNoMetadata() {
        ErrorInfo info = Refusals.errorInfo(Errors.denied(new Decision.Denied<>(Reason.NO_LICENSE_AVAILABLE, "none left", null)));
        assertTrue(info.getMetadataMap().isEmpty());
    }

    @Test
    void aStoreFaultAnywhereInTheCauseChainIsUnavailable() {
        StoreUnavailableException fault = new StoreUnavailableException("redis down", new IOException("connection reset"));
        for (Throwable t : new Throwable[] {fault, new CompletionException(fault), new CompletionException(new IllegalStateException("wrapped", fault))}) {
            StatusRuntimeException e = Errors.fromThrowable(t);
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertEquals("STORE_UNAVAILABLE", Refusals.errorInfo(e).getReason());
            assertFalse(e.getStatus().getDescription().contains("redis"), "no internals in the message");
        }
    }

    @Test
    void anythingElseIsInternalAndLeaksNothing() {
        StatusRuntimeException e = Errors.fromThrowable(new CompletionException(new IllegalStateException("token lb_secret at Foo.java:12")));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        assertEquals("internal error", e.getStatus().getDescription());
        assertNull(e.getStatus().getCause());
    }

    @Test
    void aCyclicCauseChainEnds() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertEquals(Status.Code.INTERNAL, Errors.fromThrowable(a).getStatus().getCode());
    }

    @Test
    void aFailingStoreIsAnsweredUnavailableOnBothServices() {
        ControllableStore store = new ControllableStore(MemoryStore.volatileStore(Duration.ofMinutes(10)));
        try (World w = World.over(store.store())) {
            w.account("acc", 1, 1);
            String key = w.userKey("acc", "u", null);
            store.failWith(new StoreUnavailableException("journal fsync failed", new IOException("disk full")));
            assertRefused(Status.Code.UNAVAILABLE, "STORE_UNAVAILABLE", () -> w.root().listAccounts(ListAccountsRequest.getDefaultInstance()));
            assertRefused(Status.Code.UNAVAILABLE, "STORE_UNAVAILABLE", () -> w.acquire(key, "m1"));
            store.failWith(null);
            assertEquals(0, w.row("acc", "acc").getInUse(), "the failed call changed nothing");
        }
    }

    @Test
    void aBugIsAnsweredInternal() {
        ControllableStore store = new ControllableStore(MemoryStore.volatileStore(Duration.ofMinutes(10)));
        try (World w = World.over(store.store())) {
            store.failWith(new IllegalStateException("secret internal state"));
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> w.root().listAccounts(ListAccountsRequest.getDefaultInstance()));
            assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
            assertFalse(String.valueOf(e.getStatus().getDescription()).contains("secret"));
        }
    }

    /**
     * The in-process server runs handlers on the caller's thread (direct executor): were a handler
     * to wait for the store, this call would never return and the gate could never open.
     */
    @Test
    void handlersDoNotWaitForTheStore() throws Exception {
        ControllableStore store = new ControllableStore(MemoryStore.volatileStore(Duration.ofMinutes(10)));
        try (World w = World.over(store.store())) {
            w.account("acc", 1, 1);
            var gate = store.hold();
            ListenableFuture<ListAccountsResponse> pending = World.withAuthorization(
                    LicenseAdminGrpc.newFutureStub(w.channel()), "Bearer " + World.ROOT).listAccounts(ListAccountsRequest.getDefaultInstance());
            assertTrue(store.entered().isDone());
            assertFalse(pending.isDone());
            Thread opener = new Thread(() -> gate.complete(null), "store-io");
            opener.start();
            assertEquals("acc", pending.get(10, TimeUnit.SECONDS).getAccounts(0).getAccountId());
            opener.join();
        }
    }

    @Test
    void aFailedStageAfterAuthenticationIsStillAnswered() throws InterruptedException {
        ControllableStore store = new ControllableStore(MemoryStore.volatileStore(Duration.ofMinutes(10)));
        try (World w = World.over(store.store())) {
            var gate = store.hold();
            ListenableFuture<ListAccountsResponse> pending = World.withAuthorization(
                    LicenseAdminGrpc.newFutureStub(w.channel()), "Bearer " + World.ROOT).listAccounts(ListAccountsRequest.getDefaultInstance());
            gate.completeExceptionally(new StoreUnavailableException("timeout", null));
            ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(10, TimeUnit.SECONDS));
            assertEquals("STORE_UNAVAILABLE", Refusals.errorInfo(e.getCause()).getReason());
        }
    }
}
