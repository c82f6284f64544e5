package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

class StatusesTest {

    private static StatusRuntimeException refusal(Code code, String domain, String reason, String field, String message) {
        ErrorInfo.Builder info = ErrorInfo.newBuilder().setDomain(domain).setReason(reason);
        if (field != null) {
            info.putMetadata("field", field);
        }
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber()).setMessage(message).addDetails(Any.pack(info.build())).build());
    }

    @Test
    void aFullPoolIsADenialWithTheContractReason() {
        LicenseBrokerException e = Statuses.acquireFailure(
                refusal(Code.RESOURCE_EXHAUSTED, "licensebroker", "NO_LICENSE_AVAILABLE", null, "no pool has a free license"));
        LicenseDeniedException denied = assertInstanceOf(LicenseDeniedException.class, e);
        assertEquals("NO_LICENSE_AVAILABLE", denied.reason());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, denied.code());
        assertEquals("AcquireSession refused: RESOURCE_EXHAUSTED NO_LICENSE_AVAILABLE: no pool has a free license", denied.getMessage());
    }

    @Test
    void anExpiredSubscriptionIsADenialToo() {
        LicenseBrokerException e = Statuses.acquireFailure(
                refusal(Code.FAILED_PRECONDITION, "licensebroker", "SUBSCRIPTION_EXPIRED", null, "expired"));
        assertInstanceOf(LicenseDeniedException.class, e);
        assertEquals("SUBSCRIPTION_EXPIRED", e.reason());
    }

    @Test
    void invalidInputIsAFailureNamingTheField() {
        LicenseBrokerException e = Statuses.acquireFailure(
                refusal(Code.INVALID_ARGUMENT, "licensebroker", "INVALID_ARGUMENT", "machine_id", "machine_id: is required"));
        assertFalse(e instanceof LicenseDeniedException);
        assertEquals("machine_id", e.field());
        assertEquals("AcquireSession refused: INVALID_ARGUMENT (field machine_id): machine_id: is required", e.getMessage());
        assertFalse(e.isUnreachable());
    }

    @Test
    void aNetworkFailureHasNoReasonAndIsUnreachable() {
        LicenseBrokerException e = Statuses.failure("GetLicenseUsage",
                Status.UNAVAILABLE.withDescription("io exception").asRuntimeException());
        assertEquals("", e.reason());
        assertTrue(e.isUnreachable());
        assertEquals("GetLicenseUsage failed: UNAVAILABLE: io exception", e.getMessage());
        assertEquals("UNAVAILABLE", Statuses.reasonOrCode(Status.UNAVAILABLE.asRuntimeException()));
    }

    @Test
    void anotherDomainsErrorInfoIsIgnored() {
        StatusRuntimeException e = refusal(Code.RESOURCE_EXHAUSTED, "googleapis.com", "RATE_LIMIT_EXCEEDED", null, "slow down");
        assertNull(Statuses.errorInfo(e));
        assertFalse(Statuses.acquireFailure(e) instanceof LicenseDeniedException);
    }

    @Test
    void classification() {
        assertTrue(Statuses.isTransient(Status.Code.UNAVAILABLE));
        assertTrue(Statuses.isTransient(Status.Code.DEADLINE_EXCEEDED));
        assertFalse(Statuses.isTransient(Status.Code.RESOURCE_EXHAUSTED));
        assertTrue(Statuses.endsLease(Status.Code.NOT_FOUND));
        assertTrue(Statuses.endsLease(Status.Code.FAILED_PRECONDITION));
        assertFalse(Statuses.endsLease(Status.Code.UNAVAILABLE));
        assertFalse(Statuses.endsLease(Status.Code.INTERNAL), "an internal error is retried while the lease lasts");
    }
}
