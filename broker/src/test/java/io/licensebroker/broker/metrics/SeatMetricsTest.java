package io.licensebroker.broker.metrics;

import com.google.protobuf.Timestamp;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.testing.Exposition;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.broker.testing.Promtool;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Seat products on /metrics: their pools are in the pool gauges (seats counted in in_use, as
 * GetLicenseUsage counts them), {@code license_seats_granted_total} counts seats that GrantLicense
 * created (not re-grants, not transfers) and {@code license_activations_total} every decided activation.
 */
final class SeatMetricsTest {
    private final InProcessBroker broker = new InProcessBroker(1000);

    @AfterEach
    void close() {
        broker.close();
    }

    @Test
    void seatProductsAreInThePoolGaugesAndSeatsAndActivationsAreCounted() {
        broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
        subscribe("KSE", 2, LicenseModel.LICENSE_MODEL_FLOATING);
        subscribe("KSN", 1, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        subscribe("KRE", 5, LicenseModel.LICENSE_MODEL_SESSION);
        String ann = user("ann");
        String ben = user("ben");
        user("cid");
        Exposition before = scrape();
        assertEquals(0, before.value("license_activations_total", "outcome", "granted", "reason", "ok", "model", "floating"),
                "the granted series exist from the start");
        assertEquals(List.of(), before.named("license_seats_granted_total"));

        grant("KSE", "ann");
        grant("KSE", "ann"); // the same seat again: not a new one
        grant("KSE", "ben");
        assertThrows(StatusRuntimeException.class, () -> grant("KSE", "cid"));
        broker.root().transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE")
                .setFromUserId("ben").setToUserId("cid").build()); // moves a seat, creates none
        grant("KSN", "ann");

        activate(ann, "KSE", "m-1");
        activate(ann, "KSE", "m-1");
        assertThrows(StatusRuntimeException.class, () -> activate(ann, "KSE", "m-2"));
        activate(ann, "KSN", "m-1");
        assertThrows(StatusRuntimeException.class, () -> activate(ben, "KSE", "m-3"));
        assertThrows(StatusRuntimeException.class, () -> activate(ann, "KRE", "m-1"));
        assertThrows(StatusRuntimeException.class, () -> activate(ann, "NONE", "m-1"));

        Exposition scrape = scrape();
        assertEquals(2, scrape.value("license_seats_granted_total", "product", "KSE"));
        assertEquals(1, scrape.value("license_seats_granted_total", "product", "KSN"));
        assertEquals("counter", scrape.type("license_seats_granted_total"));
        assertEquals(2, scrape.value("license_activations_total", "outcome", "granted", "reason", "ok", "model", "floating"));
        assertEquals(1, scrape.value("license_activations_total", "outcome", "granted", "reason", "ok", "model", "node_locked"));
        assertEquals(1, scrape.value("license_activations_total", "outcome", "denied", "reason", "SEAT_IN_USE", "model", "floating"));
        assertEquals(1, scrape.value("license_activations_total", "outcome", "denied", "reason", "NOT_LICENSED", "model", "floating"));
        assertEquals(1, scrape.value("license_activations_total", "outcome", "denied", "reason", "LICENSE_MODEL_MISMATCH", "model", "session"));
        assertEquals(1, scrape.value("license_activations_total", "outcome", "denied", "reason", "NO_SUBSCRIPTION", "model", "none"));
        scrape.named("license_activations_total").forEach(s -> assertEquals(Set.of("outcome", "reason", "model"), s.labels().keySet()));

        // The seat products' tables are exported like any other, seats in in_use.
        for (String product : List.of("KRE", "KSE", "KSN")) {
            LicenseUsage usage = broker.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme")
                    .setProduct(product).build());
            for (PoolRow row : usage.getRowsList()) {
                String[] labels = {"account", "acme", "pool", row.getPoolId(), "product", product};
                assertEquals(row.getInUse(), scrape.value("license_pool_in_use", labels), product);
                assertEquals(row.getAvailable(), scrape.value("license_pool_available", labels), product);
                assertEquals(row.getDedicated(), scrape.value("license_pool_dedicated", labels), product);
            }
        }
        assertEquals(2, scrape.value("license_pool_in_use", "account", "acme", "pool", "acme", "product", "KSE"));
        assertEquals(1, scrape.value("license_pool_in_use", "account", "acme", "pool", "acme", "product", "KSN"));
    }

    @Test
    void promtoolAcceptsTheSeatMetrics() throws Exception {
        broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
        subscribe("KSE", 2, LicenseModel.LICENSE_MODEL_FLOATING);
        String ann = user("ann");
        grant("KSE", "ann");
        activate(ann, "KSE", "m-1");
        assertThrows(StatusRuntimeException.class, () -> activate(ann, "KSE", "m-2"));
        Promtool.Result lint = Promtool.run(broker.metrics.scrape(), "check", "metrics");
        assertEquals(0, lint.exitCode(), "promtool check metrics: " + lint.output());
    }

    private Exposition scrape() {
        return Exposition.parse(broker.metrics.scrape());
    }

    private void subscribe(String product, long licenses, LicenseModel model) {
        broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setProduct(product)
                .setLicenses(licenses).setMachineQuota(10).setLicenseModel(model)
                .setExpiresAt(Timestamp.newBuilder().setSeconds(broker.clock.instant().plus(Duration.ofDays(30)).getEpochSecond())).build());
    }

    private String user(String userId) {
        broker.root().upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId(userId).build());
        return broker.root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId(userId).build()).getApiKey();
    }

    private void grant(String product, String userId) {
        broker.root().grantLicense(GrantLicenseRequest.newBuilder().setAccountId("acme").setProduct(product).setUserId(userId).build());
    }

    private void activate(String key, String product, String machine) {
        broker.agent(key).activateLicense(ActivateLicenseRequest.newBuilder().setProduct(product).setMachineId(machine).build());
    }
}
