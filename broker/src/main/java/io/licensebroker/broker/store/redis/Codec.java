package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Records to and from their Redis form: script replies (flat arrays, see the scripts), the compact
 * encodings of users and credentials, and instants as epoch milliseconds (Redis keeps time at
 * millisecond precision).
 */
final class Codec {
    /** Fields per session in a reply: id, product, user, machine, pool, fallback, request id, started, lease end. */
    static final int SESSION_FIELDS = 9;
    private static final String NULL = "~";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private Codec() {
    }

    // ---------------------------------------------------------------- replies

    static String kind(List<Object> reply) {
        return str(reply, 0);
    }

    static boolean isOk(List<Object> reply) {
        return "OK".equals(kind(reply));
    }

    /** The denial of a {'D', reason, detail, field} reply. */
    static <T> Decision<T> denial(List<Object> reply) {
        if (!"D".equals(kind(reply))) {
            throw new IllegalStateException("unexpected script reply " + reply);
        }
        String field = str(reply, 3);
        return Decision.denied(Reason.valueOf(str(reply, 1)), str(reply, 2), field == null || field.isEmpty() ? null : field);
    }

    /** Element {@code i} as text; null when absent or nil. */
    static String str(List<Object> reply, int i) {
        if (i >= reply.size()) {
            return null;
        }
        Object o = reply.get(i);
        return o == null ? null : o.toString();
    }

    /** Element {@code i} as text, null when absent, nil or empty. */
    static String optional(List<Object> reply, int i) {
        String s = str(reply, i);
        return s == null || s.isEmpty() ? null : s;
    }

    static long num(List<Object> reply, int i) {
        Object o = reply.get(i);
        if (o instanceof Long l) {
            return l;
        }
        return Long.parseLong(o.toString());
    }

    static String ms(Instant instant) {
        return Long.toString(instant.toEpochMilli());
    }

    static Instant instant(String epochMillis) {
        return Instant.ofEpochMilli(Long.parseLong(epochMillis));
    }

    /** The session whose {@link #SESSION_FIELDS} fields start at {@code from}. */
    static Session session(String accountId, List<Object> reply, int from) {
        return new Session(str(reply, from), accountId, str(reply, from + 1), str(reply, from + 2), str(reply, from + 3),
                str(reply, from + 4), "1".equals(str(reply, from + 5)), str(reply, from + 6),
                instant(str(reply, from + 7)), instant(str(reply, from + 8)));
    }

    static PolicySettings policy(String policy, String fallback) {
        return policy == null ? PolicySettings.DEFAULT : new PolicySettings(UsagePolicy.valueOf(policy), !"0".equals(fallback));
    }

    // ---------------------------------------------------------------- users

    /** A user record "assigned|project,project" (assigned empty when none; org ids are "OG-n"). */
    static User user(String accountId, String userId, String record) {
        int bar = record.indexOf('|');
        String assigned = record.substring(0, bar);
        String projects = record.substring(bar + 1);
        return new User(accountId, userId, assigned.isEmpty() ? null : assigned,
                projects.isEmpty() ? List.of() : Arrays.asList(projects.split(",")));
    }

    // ---------------------------------------------------------------- organizations and usage

    /** Organizations from (id, parent or '', name) triples in creation order, as parents before children. */
    static List<Organization> organizations(String accountId, List<Object> reply, int from, int count, int stride) {
        List<Organization> created = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = from + i * stride;
            created.add(new Organization(str(reply, at), accountId, optional(reply, at + 1), str(reply, at + 2)));
        }
        List<Organization> out = new ArrayList<>(count);
        preorder(accountId, created, out::add);
        return out;
    }

    /** Parents before children, siblings in creation order (the order of {@code created}). */
    static void preorder(String accountId, List<Organization> created, Consumer<Organization> visit) {
        Map<String, List<Organization>> children = new HashMap<>();
        for (Organization o : created) {
            children.computeIfAbsent(o.parentId() == null ? accountId : o.parentId(), k -> new ArrayList<>()).add(o);
        }
        Deque<Organization> todo = new ArrayDeque<>();
        pushReversed(todo, children.get(accountId));
        while (!todo.isEmpty()) {
            Organization o = todo.pop();
            visit.accept(o);
            pushReversed(todo, children.get(o.id()));
        }
    }

    private static void pushReversed(Deque<Organization> todo, List<Organization> kids) {
        if (kids != null) {
            for (int i = kids.size() - 1; i >= 0; i--) {
                todo.push(kids.get(i));
            }
        }
    }

    /** The usage reply of common.lua's usage_reply. */
    static LicenseUsage usage(String accountId, String product, List<Object> reply) {
        String name = str(reply, 1);
        String licenses = optional(reply, 2);
        Subscription subscription = licenses == null ? null : new Subscription(accountId, product, Long.parseLong(licenses),
                Long.parseLong(str(reply, 3)), instant(str(reply, 4)));
        long machines = num(reply, 5);
        long offline = num(reply, 6);
        long rootDedicated = (subscription == null ? 0 : subscription.licenses()) - offline;
        List<PoolRow> rows = new ArrayList<>();
        rows.add(new PoolRow(accountId, name, null, rootDedicated, rootDedicated - num(reply, 7), num(reply, 8)));
        int count = (int) num(reply, 9);
        Map<String, PoolRow> byId = new HashMap<>();
        List<Organization> created = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = 10 + i * 6;
            Organization o = new Organization(str(reply, at), accountId, optional(reply, at + 1), str(reply, at + 2));
            created.add(o);
            long dedicated = num(reply, at + 3);
            byId.put(o.id(), new PoolRow(o.id(), o.name(), o.parentId() == null ? accountId : o.parentId(), dedicated,
                    dedicated - num(reply, at + 4), num(reply, at + 5)));
        }
        preorder(accountId, created, o -> rows.add(byId.get(o.id())));
        return new LicenseUsage(accountId, product, subscription, rows, machines, offline);
    }

    // ---------------------------------------------------------------- credentials

    /** "role|account|user|salt|hash", each text field base64url ("~" for null). */
    static String encode(Credential c) {
        return c.role().name() + '|' + text(c.accountId()) + '|' + text(c.userId()) + '|'
                + B64.encodeToString(c.salt()) + '|' + B64.encodeToString(c.secretHash());
    }

    static Credential credential(String lookupId, String encoded) {
        String[] f = encoded.split("\\|", -1);
        if (f.length != 5) {
            throw new IllegalStateException("malformed stored credential " + lookupId);
        }
        return new Credential(lookupId, B64D.decode(f[3]), B64D.decode(f[4]), Role.valueOf(f[0]), untext(f[1]), untext(f[2]));
    }

    private static String text(String s) {
        return s == null ? NULL : B64.encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String untext(String s) {
        return NULL.equals(s) ? null : new String(B64D.decode(s), StandardCharsets.UTF_8);
    }
}
