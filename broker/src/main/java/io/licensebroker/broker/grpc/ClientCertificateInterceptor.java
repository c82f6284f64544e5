package io.licensebroker.broker.grpc;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.LicenseAdminGrpc;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Mutual TLS for admins: refuses every {@code LicenseAdmin} call whose connection did not present
 * a client certificate. The TLS handshake (client authentication OPTIONAL, trusting only the
 * configured client CA) has already verified any certificate that was presented, so a certificate
 * being present here means one the CA signed. Agent calls pass: they authenticate with API keys.
 * The bearer token is still required on top; the certificate is a second factor, not a substitute.
 */
final class ClientCertificateInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (LicenseAdminGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName()) && !hasVerifiedPeer(call)) {
            StatusRuntimeException refusal = Errors.unauthenticated(
                    "admin calls require a client certificate signed by the broker's --tls-client-ca").status();
            call.close(refusal.getStatus(), refusal.getTrailers());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }

    private static boolean hasVerifiedPeer(ServerCall<?, ?> call) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return false;
        }
        try {
            return session.getPeerCertificates().length > 0;
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }
}
