package io.licensebroker.broker.app;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.Role;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The demo account of {@code serve --demo}, shaped like the product documents' first example:
 * 200 KRE licenses, four organizations with 20, 10, 1 and 5 dedicated, and a user with an API key.
 */
final class DemoData {
    static final String ACCOUNT = "demo";
    static final String USER = "alice";

    private DemoData() {
    }

    static void load(LicenseService service, PrintStream out) {
        boolean fresh = join(service.createAccount(ACCOUNT, "Demo Account")).isGranted();
        if (fresh) {
            Instant expires = service.clock().instant().plus(Duration.ofDays(365));
            require(join(service.setSubscription(ACCOUNT, LicenseService.DEFAULT_PRODUCT, 200, 1000, expires, LicenseModel.SESSION)));
            String first = null;
            for (var org : List.of(new Object[]{"Engineering", 20L}, new Object[]{"Quality", 10L},
                    new Object[]{"Design", 1L}, new Object[]{"Support", 5L})) {
                Organization created = require(join(service.createOrganization(ACCOUNT, null, (String) org[0])));
                require(join(service.setDedicated(ACCOUNT, created.id(), LicenseService.DEFAULT_PRODUCT, (Long) org[1])));
                first = first == null ? created.id() : first;
            }
            require(join(service.upsertUser(ACCOUNT, USER, first, List.of())));
        }
        String apiKey = require(join(service.createApiKey(ACCOUNT, USER)));
        String accountAdmin = require(join(service.createAdminToken(Role.ACCOUNT_ADMIN, ACCOUNT)));
        LicenseUsage usage = require(join(service.usage(ACCOUNT, LicenseService.DEFAULT_PRODUCT)));
        out.println("demo account '" + ACCOUNT + "' " + (fresh ? "created" : "already present") + ": "
                + usage.licenses() + " " + usage.product() + " licenses, " + (usage.rows().size() - 1) + " organizations");
        out.println("demo account admin token: " + accountAdmin);
        out.println("demo api key (user " + USER + "): " + apiKey);
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot load the demo account", e);
        }
    }

    private static <T> T require(Decision<T> d) {
        if (d instanceof Decision.Denied<T> denied) {
            throw new IllegalStateException("cannot load the demo account: " + denied.reason() + " " + denied.detail());
        }
        return d.value();
    }
}
