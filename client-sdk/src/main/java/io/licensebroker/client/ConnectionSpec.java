package io.licensebroker.client;

import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * What both clients need to reach the broker: targets, transport security, deadlines and the
 * retry policy, and how that becomes a gRPC channel. The public builders delegate here so the two
 * clients connect the same way.
 */
final class ConnectionSpec {
    static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(10);
    /** gRPC caps a retry policy's attempts at 5 unless the channel raises it; so do we. */
    private static final int MAX_CHANNEL_ATTEMPTS = 5;
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final List<String> targets = new ArrayList<>();
    private boolean tls;
    private Path trustCertificates;
    private Path clientCertificate;
    private Path clientKey;
    private String authority;
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
    /** Null: round_robin on channels built from targets; a given channel builder keeps its own. */
    private String loadBalancingPolicy;
    private ManagedChannelBuilder<?> channelBuilder;
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(5);

    void addTarget(String target) {
        Objects.requireNonNull(target, "target");
        if (target.isBlank()) {
            throw new IllegalArgumentException("blank target");
        }
        targets.add(target);
    }

    void useTransportSecurity() {
        tls = true;
    }

    void trustCertificates(Path pemFile) {
        Objects.requireNonNull(pemFile, "pemFile");
        if (!Files.isReadable(pemFile)) {
            throw new IllegalArgumentException("cannot read the trusted certificates " + pemFile);
        }
        tls = true;
        trustCertificates = pemFile;
    }

    void clientCertificate(Path certificatePem, Path keyPem) {
        Objects.requireNonNull(certificatePem, "certificatePem");
        Objects.requireNonNull(keyPem, "keyPem");
        for (Path p : List.of(certificatePem, keyPem)) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("cannot read the client certificate or key " + p);
            }
        }
        tls = true;
        clientCertificate = certificatePem;
        clientKey = keyPem;
    }

    void authority(String authority) {
        this.authority = Objects.requireNonNull(authority, "authority");
    }

    void callTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("call timeout must be positive: " + timeout);
        }
        this.callTimeout = timeout;
    }

    void loadBalancingPolicy(String policy) {
        this.loadBalancingPolicy = Objects.requireNonNull(policy, "policy");
    }

    void channelBuilder(ManagedChannelBuilder<?> builder) {
        this.channelBuilder = Objects.requireNonNull(builder, "builder");
    }

    void retryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
        new Backoff(initialBackoff, maxBackoff); // validates the pair
        this.maxAttempts = maxAttempts;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
    }

    Duration callTimeout() {
        return callTimeout;
    }

    int maxAttempts() {
        return maxAttempts;
    }

    Backoff newBackoff() {
        return new Backoff(initialBackoff, maxBackoff);
    }

    /** For messages: where the client connects. */
    String describeTargets() {
        return channelBuilder != null && targets.isEmpty() ? "the given channel" : String.join(",", Targets.split(targets));
    }

    /** The interceptor that sends {@code authorization: Bearer <credential>} with every call. */
    static ClientInterceptor bearer(String credential, String what) {
        Objects.requireNonNull(credential, what);
        if (credential.isBlank() || credential.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            throw new IllegalArgumentException(what + " must be a non-empty token of visible ASCII characters");
        }
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + credential);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    /**
     * The channel, with gRPC's retry policy for UNAVAILABLE on {@code retriedMethods} (each
     * {@code service/method}, or a bare service name for all of its methods). Only calls whose
     * repetition is harmless may be listed: a connection that fails after the broker acted
     * answers UNAVAILABLE too.
     */
    ManagedChannel open(List<String> retriedMethods) {
        ManagedChannelBuilder<?> builder;
        if (channelBuilder != null) {
            if (!targets.isEmpty()) {
                throw new IllegalStateException("give either targets or a channel builder, not both");
            }
            builder = channelBuilder;
        } else {
            StaticTargetsResolverProvider.ensureRegistered();
            builder = Grpc.newChannelBuilder(Targets.channelTarget(Targets.split(targets)), credentials());
            // Find dead nodes between renewals, so the balancer stops picking them before a call
            // fails there. The broker permits pings every 10 s, with or without calls.
            builder.keepAliveTime(30, TimeUnit.SECONDS)
                    .keepAliveTimeout(10, TimeUnit.SECONDS)
                    .keepAliveWithoutCalls(true);
        }
        if (authority != null) {
            builder.overrideAuthority(authority);
        }
        if (loadBalancingPolicy != null) {
            builder.defaultLoadBalancingPolicy(loadBalancingPolicy);
        } else if (channelBuilder == null) {
            // Spread calls over every node and skip the ones that are down; pick_first would stay
            // on one node and find the others only after it fails.
            builder.defaultLoadBalancingPolicy("round_robin");
        }
        // Our retry policy must hold whatever a DNS TXT record might say.
        builder.disableServiceConfigLookUp();
        int channelAttempts = Math.min(maxAttempts, MAX_CHANNEL_ATTEMPTS);
        if (channelAttempts >= 2 && !retriedMethods.isEmpty()) {
            builder.defaultServiceConfig(retryServiceConfig(retriedMethods, channelAttempts))
                    .maxRetryAttempts(channelAttempts)
                    .enableRetry();
        } else {
            builder.disableRetry();
        }
        return builder.build();
    }

    private ChannelCredentials credentials() {
        if (!tls) {
            return InsecureChannelCredentials.create();
        }
        if (trustCertificates == null && clientCertificate == null) {
            return TlsChannelCredentials.create(); // the JDK's trusted roots
        }
        TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
        if (trustCertificates != null) {
            try {
                credentials.trustManager(trustCertificates.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the trusted certificates " + trustCertificates, e);
            }
        }
        if (clientCertificate != null) {
            try {
                credentials.keyManager(clientCertificate.toFile(), clientKey.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the client certificate " + clientCertificate, e);
            }
        }
        return credentials.build();
    }

    /** The service config map as gRPC parses it from JSON: numbers are doubles, durations strings. */
    private Map<String, Object> retryServiceConfig(List<String> methods, int attempts) {
        List<Object> names = new ArrayList<>();
        for (String m : methods) {
            int slash = m.indexOf('/');
            names.add(slash < 0 ? Map.of("service", m) : Map.of("service", m.substring(0, slash), "method", m.substring(slash + 1)));
        }
        Map<String, Object> retryPolicy = new LinkedHashMap<>();
        retryPolicy.put("maxAttempts", (double) attempts);
        retryPolicy.put("initialBackoff", seconds(initialBackoff));
        retryPolicy.put("maxBackoff", seconds(maxBackoff));
        retryPolicy.put("backoffMultiplier", 2.0);
        retryPolicy.put("retryableStatusCodes", List.of("UNAVAILABLE"));
        Map<String, Object> methodConfig = new LinkedHashMap<>();
        methodConfig.put("name", names);
        methodConfig.put("retryPolicy", retryPolicy);
        return Map.of("methodConfig", List.of(methodConfig));
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.3fs", d.toNanos() / 1e9);
    }
}
