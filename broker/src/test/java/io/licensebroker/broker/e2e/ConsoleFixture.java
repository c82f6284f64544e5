package io.licensebroker.broker.e2e;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.licensebroker.broker.testing.Browser;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc.LicenseBrokerBlockingStub;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static io.licensebroker.broker.e2e.GrpcClients.withToken;

/**
 * What the console's browser tests share: the shipped jar serving (console on a free port), a
 * gRPC channel to set up accounts as the command line would, and one chromium. Screenshots go to
 * {@code target/console-screenshots/} for people to look at.
 */
final class ConsoleFixture implements AutoCloseable {
    static final String ADMIN = "e2e-console-super-admin-token-0123456789";
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    final BrokerProcess broker;
    final ManagedChannel channel;
    final Browser browser;
    final String url;
    final Path downloads;

    private ConsoleFixture(BrokerProcess broker, ManagedChannel channel, Browser browser, String url, Path downloads) {
        this.broker = broker;
        this.channel = channel;
        this.browser = browser;
        this.url = url;
        this.downloads = downloads;
    }

    static ConsoleFixture start(Path dir) throws Exception {
        BrokerProcess broker = BrokerProcess.start(dir.resolve("data"), "--admin-token", ADMIN, "--lease-ttl", "10m");
        ManagedChannel channel = null;
        try {
            int console = Integer.parseInt(broker.awaitLine("console on ").substring("console on ".length()).trim());
            channel = GrpcClients.channel(broker.port());
            Path downloads = Files.createDirectories(dir.resolve("downloads"));
            Browser browser = Browser.start(Files.createDirectories(dir.resolve("profile")), downloads, SCREENSHOTS);
            return new ConsoleFixture(broker, channel, browser, "http://127.0.0.1:" + console + "/", downloads);
        } catch (Exception | AssertionError e) {
            if (channel != null) {
                channel.shutdownNow();
            }
            broker.close();
            throw e;
        }
    }

    LicenseAdminBlockingStub root() {
        return withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
    }

    LicenseBrokerBlockingStub agent(String apiKey) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey);
    }

    /** A new account (its own id, so tests never meet each other's data) with a subscription of {@code licenses}. */
    String account(String name, long licenses) {
        String id = "acct-" + UUID.randomUUID().toString().substring(0, 8);
        root().createAccount(CreateAccountRequest.newBuilder().setAccountId(id).setName(name).build());
        subscribe(id, "KRE", licenses, LicenseModel.LICENSE_MODEL_SESSION);
        return id;
    }

    void subscribe(String account, String product, long licenses, LicenseModel model) {
        Instant expires = Instant.now().plus(365, ChronoUnit.DAYS);
        root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account).setProduct(product).setLicenses(licenses)
                .setMachineQuota(100).setExpiresAt(Timestamp.newBuilder().setSeconds(expires.getEpochSecond())).setLicenseModel(model).build());
    }

    String organization(String account, String parent, String name) {
        return root().createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(account).setParentId(parent == null ? "" : parent)
                .setName(name).build()).getOrgId();
    }

    String accountAdmin(String account) {
        return root().createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId(account)
                .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
    }

    String organizationAdmin(String orgId) {
        return root().createAdminToken(CreateAdminTokenRequest.newBuilder().setOrgId(orgId)
                .setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).build()).getToken();
    }

    /** A user assigned to {@code orgId} (null: none) and an API key for its agents. */
    String userWithKey(String account, String userId, String orgId) {
        root().upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId(userId).setAssignedOrgId(orgId == null ? "" : orgId).build());
        return root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(userId).build()).getApiKey();
    }

    String acquire(String apiKey, String machine) {
        return agent(apiKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machine).setRequestId(UUID.randomUUID().toString())
                .build()).getSessionId();
    }

    /** Opens the page afresh (which forgets any token) and signs in with {@code token}. */
    void signIn(String token) {
        browser.open(url);
        browser.find("textbox", "Admin token").sendKeys(token);
        browser.find("button", "Sign in").click();
        browser.find("button", "Sign out");
    }

    WebElement region(String name) {
        return browser.find("region", name);
    }

    /** The pool table's rows as they read: Organization, Dedicated, Pool, Assigned, Available. */
    List<List<String>> poolRows() {
        WebElement table = browser.find("table", "License pools");
        return table.findElements(By.cssSelector("tbody tr")).stream()
                .map(tr -> tr.findElements(By.tagName("td")).stream().limit(5).map(td -> td.getText().strip()).toList())
                .toList();
    }

    /** Waits until the pool table reads {@code rows} (as a poll may bring them). */
    void awaitPoolRows(List<List<String>> rows) {
        browser.await("the pool table to read " + rows, () -> {
            List<List<String>> now = poolRows();
            return now.equals(rows) ? Optional.of(now) : Optional.empty();
        });
    }

    /** The row of the pool table whose Organization reads {@code name}. */
    WebElement poolRow(String name) {
        return browser.await("a pool row named " + name, () -> browser.find("table", "License pools")
                .findElements(By.cssSelector("tbody tr")).stream()
                .filter(tr -> tr.findElement(By.tagName("td")).getText().strip().equals(name)).findFirst());
    }

    /** Sets {@code field} (found by role and name) to {@code value}. */
    void type(WebElement within, String role, String name, String value) {
        WebElement input = browser.find(within, role, name);
        input.clear();
        input.sendKeys(value);
    }

    static List<String> row(Object... cells) {
        return java.util.Arrays.stream(cells).map(String::valueOf).toList();
    }

    Map<String, String> cliEnv() {
        return Map.of("BROKER_TARGET", "127.0.0.1:" + broker.port(), "BROKER_TOKEN", ADMIN);
    }

    @Override
    public void close() throws Exception {
        try {
            browser.close();
        } finally {
            channel.shutdownNow();
            broker.close();
        }
    }
}
