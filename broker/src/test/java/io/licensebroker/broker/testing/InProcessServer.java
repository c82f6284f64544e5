package io.licensebroker.broker.testing;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Services behind a fresh in-process gRPC server, with a channel to it; both run calls on the
 * caller's thread (direct executor), so a test's call returns only once the broker has answered.
 */
public final class InProcessServer implements AutoCloseable {
    private final Server server;
    private final ManagedChannel channel;

    private InProcessServer(Server server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    public static InProcessServer serve(Iterable<ServerServiceDefinition> services) {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).directExecutor();
        services.forEach(builder::addService);
        try {
            return new InProcessServer(builder.build().start(), InProcessChannelBuilder.forName(name).directExecutor().build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
    }
}
