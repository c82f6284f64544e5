package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.UsagePolicy;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The edge rules at their boundaries: what passes, what is refused, and which field is named. */
final class ValidationTest {

    private static DynamicTest accepts(String name, Executable check) {
        return DynamicTest.dynamicTest("accepts " + name, () -> assertDoesNotThrow(check));
    }

    private static DynamicTest refuses(String name, String field, Executable check) {
        return DynamicTest.dynamicTest("refuses " + name, () -> {
            Errors.Refusal r = assertThrows(Errors.Refusal.class, check);
            Refusals.assertInvalid(field, () -> {
                throw r.status();
            });
        });
    }

    private static <T> DynamicTest[] boundary(String what, String field, Function<String, T> rule, List<String> good, List<String> bad) {
        Stream<DynamicTest> ok = good.stream().map(v -> accepts(what + " " + abbreviate(v), () -> rule.apply(v)));
        Stream<DynamicTest> ko = bad.stream().map(v -> refuses(what + " " + abbreviate(v), field, () -> rule.apply(v)));
        return Stream.concat(ok, ko).toArray(DynamicTest[]::new);
    }

    private static String abbreviate(String v) {
        String shown = v.length() > 12 ? v.substring(0, 6) + "…(" + v.length() + ")" : v;
        return "\"" + shown.replace("\n", "\\n").replace("\t", "\\t").replace("\u0000", "\\0") + "\"";
    }

    @TestFactory
    Stream<DynamicTest> ids() {
        return Stream.of(
                boundary("account_id", "account_id", Validation::accountId,
                        List.of("a", "acme-1_X", "a".repeat(64), "OG1", "og-1"),
                        List.of("", "a".repeat(65), "a.b", "a b", "OG-1", "OG-", "ü")),
                boundary("machine_id", "machine_id", Validation::machineId,
                        List.of("m", "host.example.com", "user@host", "a-b_c.d", "m".repeat(128)),
                        List.of("", ".", "..", ".hidden", "a/b", "a\\b", "m".repeat(129), "a b", "a:b")),
                boundary("user_id", "user_id", Validation::userId,
                        List.of("u", "first.last+tag@example.com", "u".repeat(128)),
                        List.of("", "u".repeat(129), "a b", "a/b", "ü")),
                boundary("session_id", "session_id", Validation::sessionId,
                        List.of("x", "acme.abcdefghijklmnopqrstuvwxyz", "~ !".repeat(66) + "ab", "s".repeat(Validation.MAX_SESSION_ID)),
                        List.of("", "s".repeat(Validation.MAX_SESSION_ID + 1), "a\nb", "é")),
                boundary("request_id", "request_id", Validation::requestId,
                        List.of("", "r", "r".repeat(128), "with spaces ok"),
                        List.of("r".repeat(129), "tab\t", "\u0000")),
                boundary("org_id", "org_id", v -> Validation.orgId(v, "org_id"),
                        List.of("OG-1", "OG-" + "9".repeat(29)),
                        List.of("", "OG-", "OG-x", "og-1", "OG-1a", "OG--1", "OG-" + "9".repeat(30), "acme")),
                boundary("pool_id filter", "pool_id", Validation::optionalPoolId,
                        List.of("", "acme", "OG-12"),
                        List.of("OG-x", "a b", "a".repeat(65))),
                boundary("product", "product", Validation::product,
                        List.of("", "KRE", "p".repeat(32), "a-b_C"),
                        List.of("p".repeat(33), "a.b", "a b", "ü")),
                boundary("name", "name", Validation::name,
                        List.of("n", "n".repeat(200), "Ünïcødé ✓", "😀".repeat(200)),
                        List.of("", "n".repeat(201), "😀".repeat(201), "a\tb", "a\nb", "a\u0000b", "a\u0085b", "   ")),
                boundary("page_token", "page_token", Validation::pageToken,
                        List.of("", "acme.abc", "t".repeat(200)),
                        List.of("t".repeat(201), "a\u0001")),
                boundary("an activation page_token (an activation id: up to a session id's length)", "page_token",
                        v -> Validation.pageToken(v, Validation.MAX_SESSION_ID),
                        List.of("", "acme.abc", "t".repeat(Validation.MAX_SESSION_ID)),
                        List.of("t".repeat(Validation.MAX_SESSION_ID + 1), "é")),
                boundary("from_user_id", "from_user_id", v -> Validation.userId(v, "from_user_id"),
                        List.of("u", "first.last+tag@example.com", "u".repeat(128)),
                        List.of("", "u".repeat(129), "a b"))
        ).flatMap(Stream::of);
    }

    @Test
    void optionalValuesBecomeNullAndTheProductDefaults() {
        assertNull(Validation.optionalAccountId(""));
        assertNull(Validation.optionalOrgId("", "parent_id"));
        assertNull(Validation.optionalUserId(""));
        assertNull(Validation.optionalMachineId(""));
        assertNull(Validation.optionalPoolId(""));
        assertNull(Validation.optionalProduct(""), "a listing filter: every product");
        assertNull(Validation.pageToken(""));
        assertEquals("KRE", Validation.product(""));
    }

    @TestFactory
    Stream<DynamicTest> numbers() {
        return Stream.of(
                accepts("licenses 0", () -> Validation.count(0, "licenses")),
                accepts("licenses 1e9", () -> Validation.count(1_000_000_000L, "licenses")),
                refuses("licenses -1", "licenses", () -> Validation.count(-1, "licenses")),
                refuses("machine_quota 1e9+1", "machine_quota", () -> Validation.count(1_000_000_001L, "machine_quota")),
                refuses("machine_quota Long.MIN_VALUE", "machine_quota", () -> Validation.count(Long.MIN_VALUE, "machine_quota")),
                DynamicTest.dynamicTest("page_size 0 means 100", () -> assertEquals(100, Validation.pageSize(0))),
                DynamicTest.dynamicTest("page_size 1000 is kept", () -> assertEquals(1000, Validation.pageSize(1000))),
                refuses("page_size 1001", "page_size", () -> Validation.pageSize(1001)),
                refuses("page_size -1", "page_size", () -> Validation.pageSize(-1)));
    }

    @TestFactory
    Stream<DynamicTest> timestamps() {
        return Stream.of(
                DynamicTest.dynamicTest("accepts year 1 and year 9999", () -> {
                    assertEquals(Instant.parse("0001-01-01T00:00:00Z"),
                            Validation.timestamp(Timestamp.newBuilder().setSeconds(-62_135_596_800L).build(), "expires_at"));
                    assertEquals(Instant.parse("9999-12-31T23:59:59.999999999Z"), Validation.timestamp(
                            Timestamp.newBuilder().setSeconds(253_402_300_799L).setNanos(999_999_999).build(), "expires_at"));
                }),
                accepts("the past", () -> Validation.timestamp(Timestamp.newBuilder().setSeconds(0).build(), "expires_at")),
                refuses("before year 1", "expires_at", () -> Validation.timestamp(Timestamp.newBuilder().setSeconds(-62_135_596_801L).build(), "expires_at")),
                refuses("after year 9999", "expires_at", () -> Validation.timestamp(Timestamp.newBuilder().setSeconds(253_402_300_800L).build(), "expires_at")),
                refuses("negative nanos", "expires_at", () -> Validation.timestamp(Timestamp.newBuilder().setNanos(-1).build(), "expires_at")),
                refuses("a billion nanos", "expires_at", () -> Validation.timestamp(Timestamp.newBuilder().setNanos(1_000_000_000).build(), "expires_at")));
    }

    @TestFactory
    Stream<DynamicTest> enumsAndBlobs() {
        return Stream.of(
                DynamicTest.dynamicTest("roles", () -> {
                    assertEquals(Role.ACCOUNT_ADMIN, Validation.adminRole(1));
                    assertEquals(Role.SUPER_ADMIN, Validation.adminRole(2));
                    assertEquals(Role.ORGANIZATION_ADMIN, Validation.adminRole(3));
                }),
                refuses("role 0", "role", () -> Validation.adminRole(0)),
                refuses("role 4", "role", () -> Validation.adminRole(4)),
                refuses("role -1", "role", () -> Validation.adminRole(-1)),
                DynamicTest.dynamicTest("policies", () -> {
                    assertEquals(UsagePolicy.UNRESTRICTED, Validation.policy(1));
                    assertEquals(UsagePolicy.MEMBER_BASED, Validation.policy(2));
                    assertEquals(UsagePolicy.STRICT, Validation.policy(3));
                }),
                refuses("policy 0", "policy", () -> Validation.policy(0)),
                refuses("policy 4", "policy", () -> Validation.policy(4)),
                accepts("a 64 KiB license file", () -> Validation.licenseFile(ByteString.copyFrom(new byte[64 * 1024]))),
                refuses("an empty license file", "license_file", () -> Validation.licenseFile(ByteString.EMPTY)),
                refuses("a license file over 64 KiB", "license_file", () -> Validation.licenseFile(ByteString.copyFrom(new byte[64 * 1024 + 1]))));
    }

    @TestFactory
    Stream<DynamicTest> projectOrgIds() {
        return Stream.of(
                DynamicTest.dynamicTest("duplicates are folded, first occurrence first",
                        () -> assertEquals(List.of("OG-2", "OG-1"), Validation.projectOrgIds(List.of("OG-2", "OG-1", "OG-2", "OG-1")))),
                accepts("1000 entries", () -> Validation.projectOrgIds(Collections.nCopies(1000, "OG-1"))),
                refuses("1001 entries", "project_org_ids", () -> Validation.projectOrgIds(Collections.nCopies(1001, "OG-1"))),
                refuses("a malformed entry", "project_org_ids", () -> Validation.projectOrgIds(List.of("OG-1", "acme"))));
    }
}
