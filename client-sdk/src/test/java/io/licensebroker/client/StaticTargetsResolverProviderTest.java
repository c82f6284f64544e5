package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverRegistry;
import io.grpc.ProxyDetector;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

class StaticTargetsResolverProviderTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final SynchronizationContext sync = new SynchronizationContext((t, e) -> {
        throw new AssertionError("uncaught in the synchronization context", e);
    });

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    private NameResolver.Args args(String overrideAuthority) {
        ProxyDetector noProxy = address -> null;
        NameResolver.Args.Builder b = NameResolver.Args.newBuilder()
                .setDefaultPort(7443)
                .setProxyDetector(noProxy)
                .setSynchronizationContext(sync)
                .setScheduledExecutorService(timer)
                .setServiceConfigParser(new NameResolver.ServiceConfigParser() {
                    @Override
                    public NameResolver.ConfigOrError parseServiceConfig(java.util.Map<String, ?> rawServiceConfig) {
                        return NameResolver.ConfigOrError.fromConfig(rawServiceConfig);
                    }
                });
        if (overrideAuthority != null) {
            b.setOverrideAuthority(overrideAuthority);
        }
        return b.build();
    }

    private List<EquivalentAddressGroup> resolve(String target, NameResolver.Args args) throws Exception {
        StaticTargetsResolverProvider.ensureRegistered();
        NameResolver resolver = NameResolverRegistry.getDefaultRegistry().asFactory().newNameResolver(URI.create(target), args);
        assertNotNull(resolver, "the scheme is registered with gRPC");
        CompletableFuture<List<EquivalentAddressGroup>> result = new CompletableFuture<>();
        sync.execute(() -> resolver.start(new NameResolver.Listener2() {
            @Override
            public void onResult(NameResolver.ResolutionResult r) {
                result.complete(r.getAddressesOrError().getValue());
            }

            @Override
            public void onError(Status error) {
                result.completeExceptionally(error.asRuntimeException());
            }
        }));
        try {
            return result.get(10, TimeUnit.SECONDS);
        } finally {
            sync.execute(resolver::shutdown);
        }
    }

    @Test
    void oneAddressGroupPerNodeEachWithItsOwnAuthority() throws Exception {
        String target = Targets.channelTarget(List.of("127.0.0.1:7001", "[::1]:7002"));
        List<EquivalentAddressGroup> groups = resolve(target, args(null));
        assertEquals(2, groups.size());
        assertEquals(List.of(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 7001)), groups.get(0).getAddresses());
        assertEquals(List.of(new InetSocketAddress(InetAddress.getByName("::1"), 7002)), groups.get(1).getAddresses());
        assertEquals("127.0.0.1:7001", groups.get(0).getAttributes().get(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE));
        assertEquals("[::1]:7002", groups.get(1).getAttributes().get(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE));
    }

    @Test
    void anOverriddenAuthorityIsLeftToTheChannel() throws Exception {
        List<EquivalentAddressGroup> groups = resolve(Targets.channelTarget(List.of("127.0.0.1:7001", "127.0.0.1:7002")),
                args("broker.example.com"));
        assertNull(groups.get(0).getAttributes().get(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE));
    }

    @Test
    void otherSchemesAreNotOurs() {
        StaticTargetsResolverProvider.ensureRegistered();
        assertEquals("dns", NameResolverRegistry.getDefaultRegistry().getDefaultScheme(), "DNS stays the default scheme");
    }
}
