package io.licensebroker.broker.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.TimeUnit;

/**
 * The server's own Netty event loops and listening channel, the same kind gRPC would pick (epoll
 * where available, else NIO). Owned here only so that the listening channel can carry the
 * {@link ConnectionLimiter}: gRPC offers no hook on accepted connections, and when the channel is
 * chosen it requires the loops to be chosen too.
 */
final class EventLoops {
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ChannelFactory<ServerChannel> channels;

    private EventLoops(EventLoopGroup boss, EventLoopGroup workers, ChannelFactory<ServerChannel> channels) {
        this.boss = boss;
        this.workers = workers;
        this.channels = channels;
    }

    static EventLoops create(ConnectionLimiter limiter) {
        // 0 workers: Netty's default, two per core, as gRPC's own.
        if (Epoll.isAvailable()) {
            return new EventLoops(new EpollEventLoopGroup(1, new DefaultThreadFactory("broker-grpc-accept", true)),
                    new EpollEventLoopGroup(0, new DefaultThreadFactory("broker-grpc-io", true)), () -> {
                        EpollServerSocketChannel channel = new EpollServerSocketChannel();
                        channel.pipeline().addLast(limiter);
                        return channel;
                    });
        }
        return new EventLoops(new NioEventLoopGroup(1, new DefaultThreadFactory("broker-grpc-accept", true)),
                new NioEventLoopGroup(0, new DefaultThreadFactory("broker-grpc-io", true)), () -> {
                    NioServerSocketChannel channel = new NioServerSocketChannel();
                    channel.pipeline().addLast(limiter);
                    return channel;
                });
    }

    void configure(NettyServerBuilder builder) {
        builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelFactory(channels);
    }

    /** After the server has terminated (gRPC does not shut down loops it was given). */
    void shutdown() {
        boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }
}
