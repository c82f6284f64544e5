package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

class TargetsTest {

    @Test
    void oneHostPortStaysAsItIs() {
        assertEquals("broker-1:7443", Targets.channelTarget(List.of("broker-1:7443")));
        assertEquals("broker-1:7443", Targets.channelTarget(List.of("broker-1")), "the broker's default port");
        assertEquals("[::1]:9000", Targets.channelTarget(List.of("[::1]:9000")));
    }

    @Test
    void aTargetWithASchemeIsHandedToGrpcUnchanged() {
        assertEquals("dns:///brokers.internal:7443", Targets.channelTarget(List.of("dns:///brokers.internal:7443")));
        assertThrows(IllegalArgumentException.class,
                () -> Targets.channelTarget(List.of("dns:///brokers.internal:7443", "other:7443")));
    }

    @Test
    void severalNodesBecomeOneStaticTargetThatRoundTrips() {
        List<String> targets = Targets.split(List.of("a:1, b:2", "[::1]:3", "10.0.0.4"));
        assertEquals(List.of("a:1", "b:2", "[::1]:3", "10.0.0.4"), targets);
        String channelTarget = Targets.channelTarget(targets);
        URI uri = URI.create(channelTarget);
        assertEquals(StaticTargetsResolverProvider.SCHEME, uri.getScheme());
        assertEquals(List.of(new Targets.HostPort("a", 1), new Targets.HostPort("b", 2), new Targets.HostPort("::1", 3),
                new Targets.HostPort("10.0.0.4", 7443)), Targets.parseStaticPath(uri.getPath()));
    }

    @Test
    void hostPortForms() {
        assertEquals(new Targets.HostPort("::1", 7443), Targets.parseHostPort("::1"));
        assertEquals(new Targets.HostPort("::1", 7443), Targets.parseHostPort("[::1]"));
        assertEquals("[fe80::1]:5", new Targets.HostPort("fe80::1", 5).authority());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Targets.parseHostPort("host:http"));
        assertTrue(e.getMessage().contains("host:http"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Targets.parseHostPort("host:0"));
        assertThrows(IllegalArgumentException.class, () -> Targets.parseHostPort("[::1"));
        assertThrows(IllegalArgumentException.class, () -> Targets.parseHostPort(":7443"));
    }

    @Test
    void noTargetIsAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Targets.channelTarget(Targets.split(List.of(" , "))));
        assertTrue(e.getMessage().contains("target"), e.getMessage());
    }
}
