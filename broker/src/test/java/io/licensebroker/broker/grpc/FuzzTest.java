package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.rpc.ErrorInfo;
import com.github.benmanes.caffeine.cache.Ticker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.broker.testing.InProcessServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input over every RPC of both services: requests built field by field from the proto
 * descriptors with random and boundary values (empty, 1 char, at and past each length limit,
 * unicode, control characters, 1 MiB strings, huge and negative numbers, unknown enum numbers,
 * duplicate repeated entries, out-of-range timestamps), sent with random credentials (valid tokens
 * of every role, random bytes, forged {@code lb_} tokens). Every call must end within its deadline
 * with a status a client can act on, never INTERNAL or UNKNOWN; every refusal carries an ErrorInfo
 * of domain licensebroker; and a refused call changes nothing (snapshots of both accounts compared
 * before and after). The seed is printed on failure; {@code -Dfuzz.seed=N} replays it and
 * {@code -Dfuzz.calls=N} runs longer.
 */
final class FuzzTest {
    private static final int CALLS = Integer.getInteger("fuzz.calls", 3000);
    private static final long SEED = Long.getLong("fuzz.seed", 20261123L);
    private static final Set<Status.Code> ALLOWED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
            Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION,
            Status.Code.RESOURCE_EXHAUSTED, Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED);
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String MIB = "x".repeat(1024 * 1024);
    /** Both tenants' floating seat product (alice and carol hold a seat), so the seat RPCs get past the model check. */
    private static final String SEATS = "KSE";

    private final World world = World.standard();
    private final Random random = new Random(SEED);
    private final InProcessServer server;
    private final ManagedChannel channel;
    private final List<String> strings = new ArrayList<>();
    private final List<String> tokens = new ArrayList<>();
    /** Ids of credentials the fuzzer may revoke: whether each still exists is part of the state. */
    private final List<String> revocable = new ArrayList<>();
    /**
     * Per tenant, values that pass validation and belong together; a third of the requests use only
     * one tenant's values and a token that may call the RPC, to reach the rules behind validation.
     */
    private final List<List<String>> saneStrings = new ArrayList<>();
    /** Per tenant, its users (for the user fields of a transfer). */
    private final List<List<String>> saneUsers = List.of(List.of("alice", "bob"), List.of("carol", "dave"));
    private List<String> tenant;
    /** Whether the request being built uses only sane values. */
    private boolean sane;

    FuzzTest() throws Exception {
        // A limiter that never locks: the fuzzer sends thousands of bad tokens from one address and
        // must keep reaching the handlers with good ones too (the limiter has its own test).
        server = InProcessServer.serve(BrokerServer.contractServices(world.service, AcquireObserver.NONE, new AuthFailureLimiter(Integer.MAX_VALUE, Ticker.systemTicker())));
        channel = server.channel();

        String acmeSession = world.agent(world.aliceKey).acquireSession(AcquireSessionRequest.newBuilder()
                .setMachineId("m-1").setRequestId("r-1").build()).getSessionId();
        String globexSession = world.agent(world.carolKey).acquireSession(AcquireSessionRequest.newBuilder()
                .setMachineId("m-2").setRequestId("r-2").build()).getSessionId();
        world.userKey("globex", "dave", null);
        for (String account : List.of("acme", "globex")) {
            world.seats(account, SEATS, 5, 10, LicenseModel.LICENSE_MODEL_FLOATING);
        }
        world.grant("acme", SEATS, "alice");
        world.grant("globex", SEATS, "carol");
        // Values that get past validation, so the fuzzer also reaches the rules behind it.
        strings.addAll(List.of("acme", "globex", "nobody", world.acmeOrg, world.globexOrg, "OG-999999", "alice", "bob",
                "carol", "dave", "KRE", SEATS, "OTHER", "m-1", "m-2", "r-1", acmeSession, globexSession, "acme.", "globex.x", "2030-01-01"));
        // Credentials made only to be revoked (the fuzzer's own tokens stay valid).
        String acmeKeyId = world.root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("alice")
                .build()).getKeyId();
        String acmeTokenId = world.root().createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("acme")
                .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getTokenId();
        String globexKeyId = world.root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("globex").setUserId("carol")
                .build()).getKeyId();
        strings.addAll(List.of(acmeKeyId, acmeTokenId, globexKeyId));
        revocable.addAll(List.of(acmeKeyId, acmeTokenId, globexKeyId));
        saneStrings.add(List.of("acme", world.acmeOrg, "alice", "bob", "KRE", "m-1", "r-1", acmeSession, acmeKeyId, acmeTokenId));
        saneStrings.add(List.of("globex", world.globexOrg, "carol", "KRE", "m-2", "r-2", globexSession, globexKeyId));
        // Boundaries and hostile shapes.
        for (int n : new int[] {Validation.MAX_ACCOUNT_ID, Validation.MAX_NAME, Validation.MAX_PRODUCT,
                Validation.MAX_MACHINE_ID, Validation.MAX_SESSION_ID, Validation.MAX_ORG_ID, Validation.MAX_PAGE_TOKEN}) {
            strings.add("a".repeat(n));
            strings.add("a".repeat(n + 1));
        }
        strings.addAll(List.of("", "a", " ", "..", "OG-", "OG-0", "OG--1", "OG-99999999999999999999999999",
                "\u0000", "a\u0000b", "\n\r\t", "\u007f", "\u00e9t\u00e9", "\u65e5\u672c", "\ud83d\ude00", "\ud800",
                "' OR 1=1 --", "../../etc/passwd", "%s%n", "${jndi:ldap://x}", "lb_", MIB));
        tokens.addAll(List.of(World.ROOT, world.acmeAdmin, world.globexAdmin, world.aliceKey, world.bobKey, world.carolKey));
    }

    @AfterEach
    void stop() {
        server.close();
        world.close();
    }

    @Test
    void everyRpcAnswersEveryInputWithAClearStatusAndRefusalsChangeNothing() {
        List<MethodDescriptor<Message, Message>> methods = new ArrayList<>();
        methods.addAll(methods(LicenseAdminGrpc.getServiceDescriptor()));
        methods.addAll(methods(LicenseBrokerGrpc.getServiceDescriptor()));
        assertEquals(37, methods.size(), "every RPC of both services");
        int[] ok = new int[methods.size()];
        for (int i = 0; i < CALLS; i++) {
            int m = i < methods.size() ? i : random.nextInt(methods.size());
            MethodDescriptor<Message, Message> method = methods.get(m);
            sane = random.nextInt(3) == 0;
            int t = random.nextInt(saneStrings.size());
            tenant = saneStrings.get(t);
            Message request = fill(prototype(method).newBuilderForType(), 0).build();
            String token = sane ? saneToken(method, t) : token();
            Snapshot before = snapshot();
            Status status = call(method, request, token);
            String what = "seed " + SEED + ", call " + i + ": " + method.getFullMethodName() + " " + shorten(request)
                    + " with token " + shorten(token) + " answered " + status;
            assertTrue(ALLOWED.contains(status.getCode()), what);
            if (status.isOk()) {
                ok[m]++;
                continue;
            }
            assertEquals(before, snapshot(), "a refused call changed state: " + what);
        }
        // The fuzzer must get past validation, or it proves little. VerifyOfflineLicense cannot
        // succeed (a random file never carries a valid signature); a few others need lucky combinations.
        int succeeded = 0;
        for (int n : ok) {
            succeeded += n > 0 ? 1 : 0;
        }
        StringBuilder counts = new StringBuilder();
        for (int m = 0; m < ok.length; m++) {
            counts.append(' ').append(methods.get(m).getBareMethodName()).append('=').append(ok[m]);
        }
        assertTrue(succeeded >= methods.size() - 4, "only " + succeeded + " RPCs ever succeeded:" + counts);
    }

    // ---------------------------------------------------------------- calls

    private Status call(MethodDescriptor<Message, Message> method, Message request, String token) {
        Metadata headers = new Metadata();
        if (token != null) {
            headers.put(AUTHORIZATION, token);
        }
        Channel authorized = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        try {
            ClientCalls.blockingUnaryCall(authorized, method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            com.google.rpc.Status details = StatusProto.fromThrowable(e);
            ErrorInfo info = null;
            if (details != null) {
                for (com.google.protobuf.Any any : details.getDetailsList()) {
                    if (any.is(ErrorInfo.class)) {
                        try {
                            info = any.unpack(ErrorInfo.class);
                        } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
                            fail("unreadable ErrorInfo on " + method.getFullMethodName(), bad);
                        }
                    }
                }
            }
            if (info == null || !Errors.DOMAIN.equals(info.getDomain()) || info.getReason().isEmpty()) {
                fail("seed " + SEED + ": " + method.getFullMethodName() + " " + shorten(request) + " answered " + e.getStatus()
                        + " without an ErrorInfo of domain " + Errors.DOMAIN);
            }
            return e.getStatus();
        }
    }

    @SuppressWarnings("unchecked")
    private static List<MethodDescriptor<Message, Message>> methods(ServiceDescriptor service) {
        List<MethodDescriptor<Message, Message>> out = new ArrayList<>();
        for (MethodDescriptor<?, ?> m : service.getMethods()) {
            out.add((MethodDescriptor<Message, Message>) m);
        }
        return out;
    }

    private static Message prototype(MethodDescriptor<Message, Message> method) {
        return (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype();
    }

    // ---------------------------------------------------------------- state

    /** What a refused call must leave as it was: both tenants' usage, sessions, tree, users, machines, policy. */
    private record Snapshot(List<Message> parts) {
    }

    private Snapshot snapshot() {
        LicenseAdminGrpc.LicenseAdminBlockingStub root = world.root();
        List<Message> parts = new ArrayList<>();
        parts.add(root.listAccounts(ListAccountsRequest.getDefaultInstance()));
        for (String account : List.of("acme", "globex")) {
            parts.add(root.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build()));
            parts.add(root.listSessions(ListSessionsRequest.newBuilder().setAccountId(account).setPageSize(Validation.MAX_PAGE_SIZE).build()));
            parts.add(root.listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId(account).build()));
            parts.add(root.listUsers(ListUsersRequest.newBuilder().setAccountId(account).build()));
            parts.add(root.listMachines(ListMachinesRequest.newBuilder().setAccountId(account).build()));
            parts.add(root.getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId(account).build()));
            parts.add(root.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).setProduct(SEATS).build()));
            parts.add(root.listMachines(ListMachinesRequest.newBuilder().setAccountId(account).setProduct(SEATS).build()));
            parts.add(root.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId(account).setProduct(SEATS)
                    .setPageSize(Validation.MAX_PAGE_SIZE).build()));
            parts.add(root.listActivations(ListActivationsRequest.newBuilder().setAccountId(account).setProduct(SEATS)
                    .setPageSize(Validation.MAX_PAGE_SIZE).build()));
        }
        for (String id : revocable) {
            parts.add(com.google.protobuf.BoolValue.of(world.store.credential(id).toCompletableFuture().join().isPresent()));
        }
        return new Snapshot(parts);
    }

    // ---------------------------------------------------------------- random input

    private String token() {
        return switch (random.nextInt(8)) {
            case 0, 1, 2, 3 -> "Bearer " + tokens.get(random.nextInt(tokens.size()));
            case 4 -> "Bearer " + forgedToken();
            case 5 -> "Bearer " + randomAscii(1 + random.nextInt(600));
            case 6 -> random.nextBoolean() ? null : randomAscii(random.nextInt(40));
            default -> pick(List.of("Bearer", "Bearer ", "bearer " + World.ROOT, "Basic " + World.ROOT,
                    "Bearer " + World.ROOT + " extra", "Bearer " + World.ROOT.toUpperCase()));
        };
    }

    /** The tenant's value for a field of that name (tenant list order: account, org, users..., product, machine, request, session). */
    private String saneString(String name) {
        int n = tenant.size();
        return switch (name) {
            case "account_id" -> tenant.get(0);
            case "org_id", "parent_id", "pool_id", "project_org_ids", "assigned_org_id" -> random.nextInt(4) == 0 ? "" : tenant.get(1);
            case "user_id" -> tenant.get(2);
            case "from_user_id", "to_user_id" -> pick(saneUsers.get(saneStrings.indexOf(tenant)));
            case "product" -> random.nextBoolean() ? "KRE" : SEATS;
            case "machine_id" -> tenant.get(n - 3);
            case "request_id" -> tenant.get(n - 2) + random.nextInt(5);
            case "session_id" -> tenant.get(n - 1);
            case "page_token" -> "";
            // Credentials made to be revoked, each once (a tenant's sane strings hold its own).
            case "key_id", "token_id" -> pick(revocable);
            default -> pick(tenant);
        };
    }

    /** A token that may call {@code method} in tenant {@code t} (0 acme, 1 globex). */
    private String saneToken(MethodDescriptor<Message, Message> method, int t) {
        if (LicenseBrokerGrpc.SERVICE_NAME.equals(method.getServiceName())) {
            return "Bearer " + (t == 0 ? world.aliceKey : world.carolKey);
        }
        return "Bearer " + (random.nextBoolean() ? World.ROOT : t == 0 ? world.acmeAdmin : world.globexAdmin);
    }

    /** {@code lb_<16>_<40>}: the shape of a real key, so it reaches the credential lookup. */
    private String forgedToken() {
        String real = tokens.get(3 + random.nextInt(3));
        return random.nextBoolean() ? real.substring(0, real.length() - 1) + 'A' : "lb_" + alnum(16) + "_" + alnum(40);
    }

    private Message.Builder fill(Message.Builder builder, int depth) {
        for (FieldDescriptor field : builder.getDescriptorForType().getFields()) {
            if (random.nextInt(sane ? 8 : 4) == 0) {
                continue; // absent
            }
            if (field.isMapField()) {
                continue; // no request has one
            }
            if (field.isRepeated()) {
                int n = sane ? random.nextInt(2) : random.nextInt(10) == 0 ? Validation.MAX_PROJECT_ORGS + 1 : random.nextInt(4);
                Object duplicate = value(builder, field, depth);
                for (int i = 0; i < n; i++) {
                    builder.addRepeatedField(field, random.nextBoolean() ? duplicate : value(builder, field, depth));
                }
            } else {
                builder.setField(field, value(builder, field, depth));
            }
        }
        return builder;
    }

    private Object value(Message.Builder parent, FieldDescriptor field, int depth) {
        if (sane) {
            return switch (field.getJavaType()) {
                case STRING -> saneString(field.getName());
                case INT -> pick(List.of(0, 1, 2, 5, 10, 100));
                // Counts, timestamps a few weeks after the test clock's 2030-01-01, and history steps in seconds.
                case LONG -> pick(List.of(0L, 1L, 5L, 10L, 100L, 1_895_000_000L, 1_897_000_000L, 60L, 3600L, 86_400L));
                case ENUM -> pick(field.getEnumType().getValues());
                case BYTE_STRING -> ByteString.EMPTY;
                case MESSAGE -> saneMessage(parent, field, depth);
                default -> random.nextBoolean();
            };
        }
        return switch (field.getJavaType()) {
            case STRING -> random.nextInt(3) == 0 ? randomString() : pick(strings);
            case INT -> pick(List.of(0, 1, -1, 2, 5, 10, 100, 1000, 1001, Integer.MAX_VALUE, Integer.MIN_VALUE, random.nextInt()));
            case LONG -> pick(List.of(0L, 1L, -1L, 2L, 10L, 100L, 1_000_000_000L, 1_000_000_001L, Long.MAX_VALUE, Long.MIN_VALUE,
                    253_402_300_799L, 253_402_300_800L, 1_893_456_000L, 1_900_000_000L, random.nextLong()));
            case BOOLEAN -> random.nextBoolean();
            case FLOAT -> random.nextFloat();
            case DOUBLE -> random.nextDouble();
            case BYTE_STRING -> randomBytes();
            case ENUM -> enumValue(field);
            case MESSAGE -> depth > 3 ? parent.newBuilderForField(field).build()
                    : fill(parent.newBuilderForField(field), depth + 1).build();
        };
    }

    /**
     * Durations and timestamps as a well-behaved caller sends them (whole history steps, instants near the test
     * clock's 2030-01-01 or a few weeks after it), so that calls like GetUsageHistory get past validation as often as the others; any other message
     * is filled field by field.
     */
    private Message saneMessage(Message.Builder parent, FieldDescriptor field, int depth) {
        String type = field.getMessageType().getFullName();
        if (type.equals("google.protobuf.Duration")) {
            return com.google.protobuf.Duration.newBuilder().setSeconds(pick(List.of(60L, 3600L, 86_400L, 300L))).build();
        }
        if (type.equals("google.protobuf.Timestamp")) {
            return com.google.protobuf.Timestamp.newBuilder().setSeconds(pick(List.of(1_893_456_000L, 1_893_456_600L, 1_893_459_600L, 1_893_542_400L, 1_895_000_000L, 1_897_000_000L))).build();
        }
        return depth > 3 ? parent.newBuilderForField(field).build() : fill(parent.newBuilderForField(field), depth + 1).build();
    }

    private EnumValueDescriptor enumValue(FieldDescriptor field) {
        List<EnumValueDescriptor> known = field.getEnumType().getValues();
        if (random.nextInt(4) == 0) {
            return field.getEnumType().findValueByNumberCreatingIfUnknown(pick(List.of(999, -1, Integer.MAX_VALUE, known.size())));
        }
        return known.get(random.nextInt(known.size()));
    }

    private ByteString randomBytes() {
        return switch (random.nextInt(4)) {
            case 0 -> ByteString.EMPTY;
            case 1 -> ByteString.copyFrom(new byte[Validation.MAX_LICENSE_FILE + 1]);
            default -> {
                byte[] b = new byte[random.nextInt(512)];
                random.nextBytes(b);
                yield ByteString.copyFrom(b);
            }
        };
    }

    private String randomString() {
        int n = random.nextInt(10) == 0 ? random.nextInt(5000) : random.nextInt(40);
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append((char) (random.nextBoolean() ? random.nextInt(0x80) : random.nextInt(0x10000)));
        }
        return s.toString();
    }

    private String randomAscii(int n) {
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append((char) (0x21 + random.nextInt(0x5e)));
        }
        return s.toString();
    }

    private String alnum(int n) {
        String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(chars.charAt(random.nextInt(chars.length())));
        }
        return s.toString();
    }

    private <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    private static String shorten(Object o) {
        String s = o instanceof Message m ? TextFormat.shortDebugString(m) : String.valueOf(o);
        return s.length() <= 400 ? s : s.substring(0, 400) + "...(" + s.length() + " chars)";
    }
}
