package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link World#standard()} with an organization tree in acme, for organization admins:
 * A (= acmeOrg) with child A1 and grandchild A2, and A's sibling B. Every node of the tree, the
 * acme account itself and globex each have a user assigned there (acme's "alice" and globex's
 * "carol" have none), its API key and a live session drawing from that node's pool; every
 * organization has an ORGANIZATION_ADMIN token to be revoked, and each account a second
 * ACCOUNT_ADMIN token; each user holds a seat of the floating product {@link #SEATS} drawn from its
 * node, and each node has a spare user without one. Callers: SUPER_ADMIN, acme's and globex's ACCOUNT_ADMIN, and the org
 * admins of A, A1 and B.
 */
final class OrgTreeWorld implements AutoCloseable {
    /** A floating seat product of both accounts; every target's user holds a seat of its own pool. */
    static final String SEATS = "KSE";

    /** What a call is aimed at: a node of acme's tree, acme itself (no org, the account pool), or globex. */
    enum Target {
        A, A1, A2, B, ACCOUNT, OTHER_ACCOUNT;

        static final Set<Target> NODES = Set.of(A, A1, A2, B);
    }

    /** Who calls. */
    enum Caller {
        SUPER_ADMIN(null), ACME_ADMIN(null), GLOBEX_ADMIN(null),
        ORG_ADMIN_OF_A(Target.A), ORG_ADMIN_OF_A1(Target.A1), ORG_ADMIN_OF_B(Target.B);

        /** The organization of an org admin, else null. */
        final Target root;

        Caller(Target root) {
            this.root = root;
        }

        /** The nodes an org admin administers (its own included). */
        Set<Target> subtree() {
            return root == null ? Set.of() : switch (root) {
                case A -> Set.of(Target.A, Target.A1, Target.A2);
                case A1 -> Set.of(Target.A1, Target.A2);
                case B -> Set.of(Target.B);
                default -> throw new IllegalStateException("no org admin of " + root);
            };
        }
    }

    final World w = World.standard();
    final Map<Target, String> orgs = new EnumMap<>(Target.class);
    final Map<Target, String> users = new EnumMap<>(Target.class);
    final Map<Target, String> keys = new EnumMap<>(Target.class);
    final Map<Target, String> sessions = new EnumMap<>(Target.class);
    /** ORGANIZATION_ADMIN tokens of each organization, to be revoked (OTHER_ACCOUNT: globex's organization). */
    final Map<Target, String> orgTokens = new EnumMap<>(Target.class);
    /** Second ACCOUNT_ADMIN tokens (ACCOUNT: acme's, OTHER_ACCOUNT: globex's) and a second SUPER_ADMIN token, to be revoked. */
    final Map<Target, String> accountTokens = new EnumMap<>(Target.class);
    final String superToken;
    final Map<Caller, String> callers = new EnumMap<>(Caller.class);
    /** Users of each target without a seat of {@link #SEATS}: assigned there (ACCOUNT: nowhere, OTHER_ACCOUNT: nowhere in globex). */
    final Map<Target, String> spares = new EnumMap<>(Target.class);
    /** An offline license file of acme's. */
    final ByteString licenseFile;

    OrgTreeWorld() {
        orgs.put(Target.A, w.acmeOrg);
        orgs.put(Target.A1, w.org("acme", orgs.get(Target.A), "A1"));
        orgs.put(Target.A2, w.org("acme", orgs.get(Target.A1), "A2"));
        orgs.put(Target.B, w.org("acme", null, "B"));
        orgs.put(Target.OTHER_ACCOUNT, w.globexOrg);
        w.dedicate(orgs.get(Target.A), 20);
        w.dedicate(orgs.get(Target.A1), 10);
        w.dedicate(orgs.get(Target.A2), 4);
        w.dedicate(orgs.get(Target.B), 10);
        for (Target t : List.of(Target.A, Target.A1, Target.A2, Target.B)) {
            String user = "user-" + t.name().toLowerCase();
            users.put(t, user);
            keys.put(t, w.userKey("acme", user, orgs.get(t)));
            orgTokens.put(t, w.orgAdmin(orgs.get(t)));
        }
        orgTokens.put(Target.OTHER_ACCOUNT, w.orgAdmin(w.globexOrg));
        users.put(Target.ACCOUNT, "alice");
        keys.put(Target.ACCOUNT, w.aliceKey);
        users.put(Target.OTHER_ACCOUNT, "carol");
        keys.put(Target.OTHER_ACCOUNT, w.carolKey);
        for (Target t : Target.values()) {
            sessions.put(t, w.acquire(keys.get(t), "m-" + t.name().toLowerCase()).getSessionId());
        }
        accountTokens.put(Target.ACCOUNT, w.accountAdmin("acme"));
        accountTokens.put(Target.OTHER_ACCOUNT, w.accountAdmin("globex"));
        superToken = w.root().createAdminToken(CreateAdminTokenRequest.newBuilder().setRole(AdminRole.ADMIN_ROLE_SUPER_ADMIN).build()).getToken();
        callers.put(Caller.SUPER_ADMIN, World.ROOT);
        callers.put(Caller.ACME_ADMIN, w.acmeAdmin);
        callers.put(Caller.GLOBEX_ADMIN, w.globexAdmin);
        callers.put(Caller.ORG_ADMIN_OF_A, w.orgAdmin(orgs.get(Target.A)));
        callers.put(Caller.ORG_ADMIN_OF_A1, w.orgAdmin(orgs.get(Target.A1)));
        callers.put(Caller.ORG_ADMIN_OF_B, w.orgAdmin(orgs.get(Target.B)));
        w.seats("acme", SEATS, 50, 50, LicenseModel.LICENSE_MODEL_FLOATING);
        w.seats("globex", SEATS, 10, 10, LicenseModel.LICENSE_MODEL_FLOATING);
        Map<Target, Long> seatsOf = Map.of(Target.A, 10L, Target.A1, 5L, Target.A2, 2L, Target.B, 5L);
        for (Target t : List.of(Target.A, Target.A1, Target.A2, Target.B)) {
            w.root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org(t)).setProduct(SEATS)
                    .setLicenses(seatsOf.get(t)).build());
        }
        for (Target t : Target.values()) {
            w.grant(account(t), SEATS, users.get(t));
            String spare = "spare-" + t.name().toLowerCase();
            w.root().upsertUser(UpsertUserRequest.newBuilder().setAccountId(account(t)).setUserId(spare)
                    .setAssignedOrgId(Target.NODES.contains(t) ? org(t) : "").build());
            spares.put(t, spare);
        }
        licenseFile = w.root().issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme")
                .setMachineId("m-offline").build()).getLicenseFile();
    }

    LicenseAdminBlockingStub as(Caller caller) {
        return w.admin(callers.get(caller));
    }

    String org(Target t) {
        return orgs.get(t);
    }

    String account(Target t) {
        return t == Target.OTHER_ACCOUNT ? "globex" : "acme";
    }

    /** The pool a target names: its organization, or the account pool of acme or globex. */
    String pool(Target t) {
        return t == Target.ACCOUNT || t == Target.OTHER_ACCOUNT ? account(t) : org(t);
    }

    static String keyId(String keyOrToken) {
        return LicenseService.lookupIdOf(keyOrToken).orElseThrow();
    }

    /** Every credential of the fixture, in a fixed order, for "did it survive" checks. */
    List<String> credentials() {
        List<String> all = new java.util.ArrayList<>(callers.values());
        all.addAll(keys.values());
        all.addAll(orgTokens.values());
        all.addAll(accountTokens.values());
        all.add(superToken);
        return all;
    }

    @Override
    public void close() {
        w.close();
    }
}
