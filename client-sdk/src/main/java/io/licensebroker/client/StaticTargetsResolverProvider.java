package io.licensebroker.client;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Resolves {@code licensebroker-static:///a:7443,b:7443} into one {@link EquivalentAddressGroup}
 * per broker node, so a channel's load-balancing policy (round_robin by default) spreads calls over
 * the nodes and skips the ones that are down. This is gRPC's own failover: the SDK never picks a
 * node itself.
 *
 * <p>Each group carries its node's {@code host:port} as authority (unless the channel overrides
 * the authority), so with TLS every node is verified against its own name.
 */
final class StaticTargetsResolverProvider extends NameResolverProvider {
    static final String SCHEME = "licensebroker-static";
    /** A node whose name does not resolve is looked up again after this long. */
    private static final long RETRY_UNRESOLVED_SECONDS = 30;

    private StaticTargetsResolverProvider() {
    }

    /**
     * Registers the scheme with gRPC's default registry, once per class loader. Channels find
     * resolvers there by scheme; the setter on channel builders that would avoid the global
     * registry is deprecated. The scheme is ours alone, so the registration disturbs nobody.
     */
    static void ensureRegistered() {
        Holder.touch();
    }

    private static final class Holder {
        static {
            NameResolverRegistry.getDefaultRegistry().register(new StaticTargetsResolverProvider());
        }

        static void touch() {
            // class initialization did the work
        }
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    /**
     * Below DNS's 5: priority decides the registry's default scheme and same-scheme ties, and this
     * provider must never become the default for targets written without a scheme.
     */
    @Override
    protected int priority() {
        return 3;
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        return new Resolver(Targets.parseStaticPath(targetUri.getPath()), args);
    }

    /** The channel calls every method but {@link #getServiceAuthority()} from its synchronization context. */
    private static final class Resolver extends NameResolver {
        private final List<Targets.HostPort> nodes;
        private final boolean perNodeAuthority;
        private final Executor lookups;
        private final SynchronizationContext sync;
        private final ScheduledExecutorService timer;
        private Listener2 listener;
        private boolean resolving;
        private boolean shutdown;
        private SynchronizationContext.ScheduledHandle retry;

        Resolver(List<Targets.HostPort> nodes, Args args) {
            this.nodes = List.copyOf(nodes);
            this.perNodeAuthority = args.getOverrideAuthority() == null;
            // Name lookups block; run them off the synchronization context when the channel offers a pool.
            this.lookups = args.getOffloadExecutor() != null ? args.getOffloadExecutor() : Runnable::run;
            this.sync = args.getSynchronizationContext();
            this.timer = args.getScheduledExecutorService();
        }

        @Override
        public String getServiceAuthority() {
            return nodes.get(0).authority();
        }

        @Override
        public void start(Listener2 listener) {
            this.listener = listener;
            resolve();
        }

        /** Called by the load balancer when connections fail: names are looked up again. */
        @Override
        public void refresh() {
            resolve();
        }

        @Override
        public void shutdown() {
            shutdown = true;
            if (retry != null) {
                retry.cancel();
            }
        }

        private void resolve() {
            if (resolving || shutdown || listener == null) {
                return;
            }
            resolving = true;
            lookups.execute(() -> {
                List<EquivalentAddressGroup> groups = new ArrayList<>();
                List<String> failed = new ArrayList<>();
                for (Targets.HostPort node : nodes) {
                    try {
                        List<SocketAddress> addresses = new ArrayList<>();
                        for (InetAddress address : InetAddress.getAllByName(node.host())) {
                            addresses.add(new InetSocketAddress(address, node.port()));
                        }
                        Attributes attributes = perNodeAuthority
                                ? Attributes.newBuilder().set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE, node.authority()).build()
                                : Attributes.EMPTY;
                        groups.add(new EquivalentAddressGroup(addresses, attributes));
                    } catch (UnknownHostException | SecurityException e) {
                        failed.add(node.authority() + " (" + e.getMessage() + ")");
                    }
                }
                sync.execute(() -> deliver(groups, failed));
            });
        }

        private void deliver(List<EquivalentAddressGroup> groups, List<String> failed) {
            resolving = false;
            if (shutdown) {
                return;
            }
            if (groups.isEmpty()) {
                // The channel retries a failed resolution with its own backoff.
                listener.onError(Status.UNAVAILABLE.withDescription("no broker address resolves: " + String.join(", ", failed)));
                return;
            }
            listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(StatusOr.fromValue(groups))
                    .setAttributes(Attributes.EMPTY).build());
            if (!failed.isEmpty() && (retry == null || !retry.isPending())) {
                // The reachable nodes carry on; the others join once their names resolve. Nothing
                // else would ask again, since a node without addresses never fails a connection.
                retry = sync.schedule(this::resolve, RETRY_UNRESOLVED_SECONDS, TimeUnit.SECONDS, timer);
            }
        }
    }
}
