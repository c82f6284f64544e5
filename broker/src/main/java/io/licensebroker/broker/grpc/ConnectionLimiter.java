package io.licensebroker.broker.grpc;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the connections the gRPC port holds, in total and per client address, so that one
 * client opening thousands of connections cannot exhaust the process's file descriptors (which
 * would also stop the metrics and health port, and the store's files, from opening).
 *
 * <p>Sits on the listening channel, before Netty hands an accepted connection to gRPC: a
 * connection over a limit is closed at once, before any HTTP/2 or TLS work is spent on it, and
 * never reaches gRPC. Connections count from their acceptance until they close; IPv6 clients are
 * counted per /64 network.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimiter.class);
    /** At most one warning this often: a flood must not flood the log too. */
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final int max;
    private final int maxPerAddress;
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();
    private int total;
    private long refused;
    private long lastWarning;
    private boolean warned;

    ConnectionLimiter(int max, int maxPerAddress) {
        if (max < 1 || maxPerAddress < 1) {
            throw new IllegalArgumentException("connection limits must be positive: " + max + ", " + maxPerAddress);
        }
        this.max = max;
        this.maxPerAddress = maxPerAddress;
    }

    /** Connections open now. */
    synchronized int open() {
        return total;
    }

    /** Connections closed at once because a limit was reached, since start. */
    synchronized long refused() {
        return refused;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Channel child)) {
            ctx.fireChannelRead(msg);
            return;
        }
        InetAddress address = addressOf(child.remoteAddress());
        if (!admit(address)) {
            // Not registered with an event loop yet: closing here releases the descriptor now.
            child.unsafe().closeForcibly();
            return;
        }
        child.closeFuture().addListener(closed -> release(address));
        ctx.fireChannelRead(child);
    }

    private synchronized boolean admit(InetAddress address) {
        int fromAddress = perAddress.getOrDefault(address, 0);
        if (total >= max || fromAddress >= maxPerAddress) {
            refused++;
            long now = System.nanoTime();
            if (!warned || now - lastWarning >= WARN_EVERY_NANOS) {
                warned = true;
                lastWarning = now;
                LOG.atWarn().setMessage("connection limit reached; closing new connections over it")
                        .addKeyValue("address", address == null ? "unknown" : address.getHostAddress())
                        .addKeyValue("from_address", fromAddress).addKeyValue("max_per_address", maxPerAddress)
                        .addKeyValue("open", total).addKeyValue("max", max).addKeyValue("refused_total", refused).log();
            }
            return false;
        }
        total++;
        perAddress.put(address, fromAddress + 1);
        return true;
    }

    private synchronized void release(InetAddress address) {
        total--;
        perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
    }

    /**
     * The client address connections are counted under: the IPv4 address, or the /64 network of
     * an IPv6 one (one host commonly holds a whole /64, so counting each address would let it
     * open connections without bound).
     */
    static InetAddress addressOf(SocketAddress address) {
        if (!(address instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return null;
        }
        InetAddress ip = inet.getAddress();
        if (ip instanceof Inet6Address) {
            byte[] network = Arrays.copyOf(ip.getAddress(), 16);
            Arrays.fill(network, 8, 16, (byte) 0);
            try {
                return InetAddress.getByAddress(network);
            } catch (UnknownHostException e) {
                throw new IllegalStateException("16 bytes are an IPv6 address", e);
            }
        }
        return ip;
    }
}
