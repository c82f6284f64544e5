package io.licensebroker.client;

import io.grpc.ManagedChannelBuilder;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;

/**
 * How both clients reach brokers: targets, TLS, deadlines, retries and load balancing. Each
 * client's builder adds its own credential and options.
 *
 * @param <B> the concrete builder, returned by every setter so calls chain
 */
public abstract sealed class ClientBuilder<B extends ClientBuilder<B>>
        permits LicenseBrokerClient.Builder, LicenseAdminClient.Builder {
    final ConnectionSpec spec = new ConnectionSpec();

    ClientBuilder() {
    }

    abstract B self();

    /**
     * A broker node, {@code host:port} (port 7443 when omitted), or a gRPC target with a scheme
     * such as {@code dns:///brokers.internal:7443} (every address of the name is a node). Call
     * again, or separate with commas, to list several nodes for failover.
     */
    public B target(String target) {
        spec.addTarget(target);
        return self();
    }

    /** Several broker nodes at once; see {@link #target}. */
    public B targets(Collection<String> targets) {
        targets.forEach(spec::addTarget);
        return self();
    }

    /** TLS, trusting the JDK's root certificates. Without it the client speaks plaintext. */
    public B useTransportSecurity() {
        spec.useTransportSecurity();
        return self();
    }

    /** TLS, trusting the certificates (PEM) in this file instead of the JDK's roots. */
    public B trustCertificates(Path pemFile) {
        spec.trustCertificates(pemFile);
        return self();
    }

    /**
     * TLS with this client certificate chain and PKCS#8 key (PEM). Brokers started with
     * {@code --tls-client-ca} require one for every admin call; agents authenticate with API keys.
     */
    public B clientCertificate(Path certificatePem, Path keyPem) {
        spec.clientCertificate(certificatePem, keyPem);
        return self();
    }

    /** The name to verify the broker's certificate against (and send as :authority), when it differs from the target's host. */
    public B authority(String authority) {
        spec.authority(authority);
        return self();
    }

    /** Deadline of each call to the broker (default 10 s). */
    public B callTimeout(Duration timeout) {
        spec.callTimeout(timeout);
        return self();
    }

    /**
     * Retries of transient failures (UNAVAILABLE, DEADLINE_EXCEEDED): at most {@code maxAttempts}
     * attempts (gRPC's retry policy makes up to 5 on UNAVAILABLE for repeatable calls), with
     * jittered exponential backoff from {@code initialBackoff} to {@code maxBackoff}. The session
     * client also paces renewal retries and the polling of {@link AcquireOptions#waitUpTo()} with
     * it. Defaults: 4, 100 ms, 5 s.
     */
    public B retryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
        spec.retryPolicy(maxAttempts, initialBackoff, maxBackoff);
        return self();
    }

    /** gRPC load-balancing policy over the nodes: {@code round_robin} (default) or {@code pick_first}. */
    public B loadBalancingPolicy(String policy) {
        spec.loadBalancingPolicy(policy);
        return self();
    }

    /** A channel builder to finish instead of building one from targets (in-process channels in tests). */
    public B channelBuilder(ManagedChannelBuilder<?> builder) {
        spec.channelBuilder(builder);
        return self();
    }
}
