package io.licensebroker.broker.grpc;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Which client address a connection counts under (the flood itself is ConnectionLimitsTest, on a real port). */
final class ConnectionLimiterTest {
    @Test
    void ipv4CountsPerAddressAndIpv6PerSlash64() throws Exception {
        assertEquals(InetAddress.getByName("10.0.0.7"), ConnectionLimiter.addressOf(new InetSocketAddress("10.0.0.7", 1234)));
        assertNotEquals(ConnectionLimiter.addressOf(new InetSocketAddress("10.0.0.7", 1)),
                ConnectionLimiter.addressOf(new InetSocketAddress("10.0.0.8", 1)));
        InetAddress network = InetAddress.getByName("2001:db8:1:2::");
        assertEquals(network, ConnectionLimiter.addressOf(new InetSocketAddress("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 1)));
        assertEquals(network, ConnectionLimiter.addressOf(new InetSocketAddress("2001:db8:1:2::1", 1)));
        assertNotEquals(network, ConnectionLimiter.addressOf(new InetSocketAddress("2001:db8:1:3::1", 1)));
        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d, which Java reads as IPv4.
        assertEquals(InetAddress.getByName("192.0.2.1"), ConnectionLimiter.addressOf(new InetSocketAddress("::ffff:192.0.2.1", 1)));
    }
}
