package io.licensebroker.broker.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The broker's services on an in-process transport beside the network server: the same service
 * definitions (so the same authentication and handlers), the same interceptors in the same order
 * and the same executor. The web console calls the admin service through it, so it runs every rule
 * and check the command line meets, and its calls count in the drain of a shutdown.
 */
final class InProcessTwin {
    private final Server server;
    private final ManagedChannel channel;

    private InProcessTwin(Server server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    /** {@code interceptors} in the order they were added to the network server. */
    static InProcessTwin start(List<ServerServiceDefinition> services, List<ServerInterceptor> interceptors, Executor executor)
            throws IOException {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(executor);
        interceptors.forEach(builder::intercept);
        services.forEach(builder::addService);
        Server server = builder.build().start();
        return new InProcessTwin(server, InProcessChannelBuilder.forName(name).executor(executor).build());
    }

    ManagedChannel channel() {
        return channel;
    }

    void shutdown() {
        server.shutdown();
    }

    void shutdownNow() {
        channel.shutdownNow();
        server.shutdownNow();
    }
}
