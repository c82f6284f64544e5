package io.licensebroker.broker.grpc;

import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.ListProductsRequest;
import io.licensebroker.proto.v1.WhoAmIRequest;
import io.licensebroker.proto.v1.WhoAmIResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the web console asks before it shows anything: who the token is (WhoAmI), which products
 * the account has (ListProducts), and each product's license model (in GetLicenseUsage).
 */
final class CallerAndProductsRpcTest {
    private final World w = World.standard();

    @AfterEach
    void close() {
        w.close();
    }

    @Test
    void whoAmITellsEachAdminItsRoleAccountAndOrganization() {
        assertEquals(WhoAmIResponse.newBuilder().setRole(AdminRole.ADMIN_ROLE_SUPER_ADMIN).build(),
                w.root().whoAmI(WhoAmIRequest.getDefaultInstance()));
        assertEquals(WhoAmIResponse.newBuilder().setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).setAccountId("acme").build(),
                w.admin(w.acmeAdmin).whoAmI(WhoAmIRequest.getDefaultInstance()));
        assertEquals(WhoAmIResponse.newBuilder().setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).setAccountId("acme")
                        .setOrgId(w.acmeOrg).build(),
                w.admin(w.orgAdmin(w.acmeOrg)).whoAmI(WhoAmIRequest.getDefaultInstance()));
        Refusals.assertDenied(() -> w.admin(w.aliceKey).whoAmI(WhoAmIRequest.getDefaultInstance()));
    }

    @Test
    void listProductsNamesTheDefaultAndEveryProductWithStateForAnyAdminOfTheAccount() {
        assertEquals(List.of("KRE"), w.root().listProducts(ListProductsRequest.newBuilder().setAccountId("acme").build()).getProductsList());
        w.seats("acme", "KSE", 5, 5, LicenseModel.LICENSE_MODEL_FLOATING);
        for (String token : List.of(World.ROOT, w.acmeAdmin, w.orgAdmin(w.acmeOrg))) {
            assertEquals(List.of("KRE", "KSE"), w.admin(token).listProducts(ListProductsRequest.newBuilder().setAccountId("acme").build())
                    .getProductsList());
        }
        Refusals.assertDenied(() -> w.admin(w.globexAdmin).listProducts(ListProductsRequest.newBuilder().setAccountId("acme").build()));
    }

    @Test
    void theLicenseUsageNamesTheSubscriptionsModelAndSessionWithoutOne() {
        w.seats("acme", "KSE", 5, 5, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        assertEquals(LicenseModel.LICENSE_MODEL_NODE_LOCKED, w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder()
                .setAccountId("acme").setProduct("KSE").build()).getLicenseModel());
        assertEquals(LicenseModel.LICENSE_MODEL_SESSION, w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder()
                .setAccountId("acme").build()).getLicenseModel());
        assertEquals(LicenseModel.LICENSE_MODEL_SESSION, w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder()
                .setAccountId("acme").setProduct("NONE").build()).getLicenseModel());
    }
}
