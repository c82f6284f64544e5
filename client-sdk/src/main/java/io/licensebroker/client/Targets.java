package io.licensebroker.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns the targets given to a builder into one gRPC channel target, so that failover between
 * broker nodes is gRPC's own business (name resolution plus a load-balancing policy), never a
 * hand-rolled loop over channels:
 * <ul>
 *   <li>one {@code host:port} stays as it is (gRPC's DNS resolver: every address of the name);</li>
 *   <li>a target with a scheme ({@code dns:///brokers.internal:7443}, {@code unix:///run/broker.sock})
 *       is handed to gRPC unchanged and must be the only one;</li>
 *   <li>several {@code host:port} become one {@value StaticTargetsResolverProvider#SCHEME} target
 *       that {@link StaticTargetsResolverProvider} resolves into one address group per node.</li>
 * </ul>
 * A comma inside a target separates several ({@code --target a:7443,b:7443}).
 */
final class Targets {
    /** The broker's default port, for targets written without one. */
    static final int DEFAULT_PORT = 7443;

    private Targets() {
    }

    /** A node address; {@code host} is a name, an IPv4 literal or an IPv6 literal without brackets. */
    record HostPort(String host, int port) {
        HostPort {
            if (host.isEmpty()) {
                throw new IllegalArgumentException("empty host");
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port must be 1..65535: " + port);
            }
        }

        /** As written in a URI authority: IPv6 literals in brackets. */
        String authority() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** The targets, each split at commas, trimmed, blanks dropped. */
    static List<String> split(Collection<String> targets) {
        List<String> out = new ArrayList<>();
        for (String target : targets) {
            for (String part : target.split(",")) {
                String trimmed = part.strip();
                if (!trimmed.isEmpty()) {
                    out.add(trimmed);
                }
            }
        }
        return out;
    }

    /** The gRPC channel target for {@code targets} (already {@link #split}). */
    static String channelTarget(List<String> targets) {
        if (targets.isEmpty()) {
            throw new IllegalStateException("no target: call target(\"host:port\")");
        }
        boolean anyScheme = targets.stream().anyMatch(Targets::hasScheme);
        if (anyScheme) {
            if (targets.size() > 1) {
                throw new IllegalArgumentException("a target with a scheme (" + targets
                        + ") must be the only target; list several nodes as host:port instead");
            }
            return targets.get(0);
        }
        List<HostPort> nodes = targets.stream().map(Targets::parseHostPort).toList();
        if (nodes.size() == 1) {
            return nodes.get(0).authority();
        }
        return staticTarget(nodes);
    }

    static boolean hasScheme(String target) {
        return target.contains("://") || target.startsWith("unix:");
    }

    /** {@code host}, {@code host:port}, {@code [v6]}, {@code [v6]:port} or a bare IPv6 literal. */
    static HostPort parseHostPort(String text) {
        String s = text.strip();
        try {
            if (s.startsWith("[")) {
                int close = s.indexOf(']');
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed '[' in target '" + text + "'");
                }
                String host = s.substring(1, close);
                String rest = s.substring(close + 1);
                if (rest.isEmpty()) {
                    return new HostPort(host, DEFAULT_PORT);
                }
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("expected ':port' after ']' in target '" + text + "'");
                }
                return new HostPort(host, Integer.parseInt(rest.substring(1)));
            }
            int colon = s.indexOf(':');
            if (colon < 0) {
                return new HostPort(s, DEFAULT_PORT);
            }
            if (s.indexOf(':', colon + 1) >= 0) {
                return new HostPort(s, DEFAULT_PORT); // an IPv6 literal without brackets and port
            }
            return new HostPort(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in target '" + text + "'", e);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().contains(text)) {
                throw e;
            }
            throw new IllegalArgumentException("bad target '" + text + "': " + e.getMessage(), e);
        }
    }

    /**
     * {@code licensebroker-static:///a:7443,[::1]:7443}. Built through {@link URI} so characters
     * a URI path may not hold (the brackets of IPv6 literals) are escaped; gRPC parses the target
     * as a URI and the resolver reads the decoded path.
     */
    static String staticTarget(List<HostPort> nodes) {
        String path = "/" + nodes.stream().map(HostPort::authority).collect(Collectors.joining(","));
        try {
            return new URI(StaticTargetsResolverProvider.SCHEME, "", path, null).toString();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot form a target of " + nodes, e);
        }
    }

    /** The nodes of a static target's decoded URI path. */
    static List<HostPort> parseStaticPath(String path) {
        String list = path.startsWith("/") ? path.substring(1) : path;
        List<HostPort> nodes = split(List.of(list)).stream().map(Targets::parseHostPort).toList();
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no address in static target path '" + path + "'");
        }
        return nodes;
    }
}
