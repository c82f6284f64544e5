package io.licensebroker.broker.grpc;

import java.time.Duration;
import java.util.Objects;

/**
 * How many connections the server holds and for how long, so that neither many idle
 * connections nor one client opening thousands exhaust the process's file descriptors.
 *
 * @param max           connections held at once; more are closed as soon as they are accepted
 * @param maxPerAddress connections held at once from one client address (agents behind one NAT
 *                      share an address: size this for the largest such site)
 * @param maxIdle       a connection without a call for this long is closed (GOAWAY; clients
 *                      reconnect when they next call)
 * @param maxAge        a connection is asked to go away after about this long (±10 %), which
 *                      also bounds how long a stream gRPC left open (see {@link InFlightCalls}) lives
 * @param maxAgeGrace   and is closed this long after that, whatever is still running on it
 */
public record ServerConnections(int max, int maxPerAddress, Duration maxIdle, Duration maxAge, Duration maxAgeGrace) {
    public static final ServerConnections DEFAULTS = new ServerConnections(10_000, 1_000, Duration.ofMinutes(10),
            Duration.ofHours(1), Duration.ofMinutes(1));

    public ServerConnections {
        if (max < 1 || maxPerAddress < 1) {
            throw new IllegalArgumentException("connection limits must be positive: " + max + ", " + maxPerAddress);
        }
        for (Duration d : new Duration[] {maxIdle, maxAge, maxAgeGrace}) {
            if (Objects.requireNonNull(d, "connection duration").isNegative() || d.isZero()) {
                throw new IllegalArgumentException("connection durations must be positive: " + d);
            }
        }
    }

    public ServerConnections withLimits(int max, int maxPerAddress) {
        return new ServerConnections(max, maxPerAddress, maxIdle, maxAge, maxAgeGrace);
    }

    public ServerConnections withMaxIdle(Duration maxIdle) {
        return new ServerConnections(max, maxPerAddress, maxIdle, maxAge, maxAgeGrace);
    }
}
