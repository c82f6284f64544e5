package io.licensebroker.broker.e2e;

import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.RenewSessionRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static io.licensebroker.broker.e2e.ConsoleFixture.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page's other regions in chromium (seed 003): Licensed Users on a seat product (grant,
 * transfer, remove), Online Licenses (terminate), Registered Machines (deactivate), Offline
 * Licenses (issue and download the .lic), the utilization chart, and what each role is offered:
 * a super admin picks the account, an organization admin sees its subtree, signing out forgets the token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleRegionsBrowserIT {
    private ConsoleFixture console;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        console = ConsoleFixture.start(dir);
    }

    @AfterAll
    void stop() throws Exception {
        if (console != null) {
            console.close();
        }
    }

    /** The first cell of each row of the region's table. */
    private List<String> firstCells(String region) {
        return console.region(region).findElements(By.cssSelector("tbody tr")).stream()
                .map(tr -> tr.findElement(By.tagName("td")).getText().strip()).toList();
    }

    private void awaitFirstCells(String region, List<String> expected) {
        console.browser.await(region + " to list " + expected, () -> Optional.of(firstCells(region)).filter(expected::equals));
    }

    private WebElement rowOf(String region, String first) {
        return console.browser.await("a row " + first + " in " + region, () -> console.region(region)
                .findElements(By.cssSelector("tbody tr")).stream()
                .filter(tr -> tr.findElement(By.tagName("td")).getText().strip().equals(first)).findFirst());
    }

    private void inDialog(String title, Map<String, String> textboxes, String button) {
        WebElement dialog = console.browser.find("dialog", title);
        textboxes.forEach((name, value) -> console.type(dialog, "textbox", name, value));
        console.browser.find(dialog, "button", button).click();
        console.browser.await("dialog " + title + " to close", () ->
                console.browser.all(console.browser.driver(), "dialog", title).isEmpty() ? Optional.of(true) : Optional.empty());
    }

    @Test
    void licensedUsersAreGrantedTransferredAndRemovedOnASeatProduct() {
        String account = console.account("Seat Example", 10);
        console.subscribe(account, "KSE", 3, LicenseModel.LICENSE_MODEL_FLOATING);
        String deeKey = null;
        for (String user : List.of("ann", "ben", "dee")) {
            String key = console.userWithKey(account, user, null);
            deeKey = user.equals("dee") ? key : deeKey;
        }
        console.signIn(console.accountAdmin(account));
        new Select(console.browser.find("combobox", "Product")).selectByVisibleText("KSE");
        WebElement users = console.region("Licensed Users");
        for (String user : List.of("ann", "ben")) {
            console.browser.find(users, "button", "Grant License").click();
            inDialog("Grant License", Map.of("User", user), "Grant");
        }
        awaitFirstCells("Licensed Users", List.of("ann", "ben"));
        console.awaitPoolRows(List.of(row("Seat Example", 3, 3, 2, 1)));

        console.browser.find(rowOf("Licensed Users", "ann"), "button", "Transfer").click();
        inDialog("Transfer License", Map.of("To user", "dee"), "Transfer");
        awaitFirstCells("Licensed Users", List.of("ben", "dee"));
        console.browser.find(rowOf("Licensed Users", "ben"), "button", "Remove").click();
        awaitFirstCells("Licensed Users", List.of("dee"));
        console.awaitPoolRows(List.of(row("Seat Example", 3, 3, 1, 2)));

        // dee's agent activates the seat; the page shows it online, and Terminate ends it.
        console.agent(deeKey).activateLicense(ActivateLicenseRequest.newBuilder().setProduct("KSE").setMachineId("dee-laptop")
                .setRequestId(UUID.randomUUID().toString()).build());
        awaitFirstCells("Online Licenses", List.of("dee-laptop"));
        console.browser.screenshot("licensed-users");
        console.browser.find(rowOf("Online Licenses", "dee-laptop"), "button", "Terminate").click();
        awaitFirstCells("Online Licenses", List.of());
    }

    @Test
    void onlineSessionsAreTerminatedAndRegisteredMachinesDeactivated() {
        String account = console.account("Session Example", 10);
        String key = console.userWithKey(account, "kim", null);
        String first = console.acquire(key, "kim-1");
        console.acquire(key, "kim-2");
        console.signIn(console.accountAdmin(account));
        awaitFirstCells("Online Licenses", List.of("kim-1", "kim-2"));
        console.browser.find(rowOf("Online Licenses", "kim-1"), "button", "Terminate").click();
        awaitFirstCells("Online Licenses", List.of("kim-2"));
        StatusRuntimeException ended = assertThrows(StatusRuntimeException.class,
                () -> console.agent(key).renewSession(RenewSessionRequest.newBuilder().setSessionId(first).build()));
        assertEquals("SESSION_TERMINATED", GrpcClients.reason(ended));

        awaitFirstCells("Registered Machines", List.of("kim-1", "kim-2"));
        console.browser.find(rowOf("Registered Machines", "kim-2"), "button", "Deactivate").click();
        awaitFirstCells("Registered Machines", List.of("kim-1"));
        awaitFirstCells("Online Licenses", List.of());
        console.awaitPoolRows(List.of(row("Session Example", 10, 10, 0, 10)));
    }

    @Test
    void anOfflineLicenseIsIssuedAndDownloadedAsItsLicFile() throws Exception {
        String account = console.account("Offline Example", 10);
        console.signIn(console.accountAdmin(account));
        console.browser.find(console.region("Offline Licenses"), "button", "Issue Offline License").click();
        inDialog("Issue Offline License", Map.of("Machine ID", "lab-7"), "Issue");
        Path file = console.downloads.resolve("KRE_lab-7.lic");
        console.browser.await("the downloaded " + file, () -> Optional.of(file).filter(Files::isRegularFile)
                .filter(f -> !Files.exists(f.resolveSibling(f.getFileName() + ".crdownload"))));
        assertTrue(Files.size(file) > 0);
        awaitFirstCells("Offline Licenses", List.of("lab-7"));
        WebElement details = console.region("Subscription Details");
        console.browser.await("Available Licenses 9", () -> Optional.of(details.getText()).filter(t -> t.contains("Available Licenses\n9")));
        console.awaitPoolRows(List.of(row("Offline Example", 9, 9, 0, 9)));
    }

    @Test
    void aSuperAdminPicksTheAccount() {
        String account = console.account("Picked Account", 42);
        console.signIn(ConsoleFixture.ADMIN);
        new Select(console.browser.find("combobox", "Account")).selectByVisibleText("Picked Account (" + account + ")");
        console.awaitPoolRows(List.of(row("Picked Account", 42, 42, 0, 42)));
    }

    @Test
    void anOrganizationAdminSeesItsSubtreeAndNoAccountWidePanels() {
        String account = console.account("Org Admin Example", 20);
        String parent = console.organization(account, null, "Platform");
        console.organization(account, parent, "Platform QA");
        console.organization(account, null, "Elsewhere");
        console.signIn(console.accountAdmin(account));
        console.browser.find("button", "Sign out").click();

        console.signIn(console.organizationAdmin(parent));
        console.awaitPoolRows(List.of(row("Platform", 0, 0, 0, 0), row("Platform QA", 0, 0, 0, 0)));
        assertTrue(console.browser.all(console.browser.driver(), "region", "License Usage Policy").isEmpty());
        assertTrue(console.browser.all(console.browser.driver(), "region", "Registered Machines").isEmpty());
        assertTrue(console.browser.all(console.browser.driver(), "combobox", "Account").isEmpty());
        // Its own organization's count draws from above it: no Edit there, Edit below.
        assertTrue(console.browser.all(console.poolRow("Platform"), "button", "Edit").isEmpty());
        assertEquals(1, console.browser.all(console.poolRow("Platform QA"), "button", "Edit").size());
    }

    @Test
    void theTokenStaysInTheTabsMemoryAndSigningOutForgetsIt() {
        String account = console.account("Sign Out Example", 5);
        console.signIn(console.accountAdmin(account));
        Object stored = console.browser.driver().executeScript(
                "return [localStorage.length, sessionStorage.length, document.cookie, location.href, document.getElementById('token').value]");
        assertEquals(List.of(0L, 0L, "", console.url, ""), stored);
        console.browser.find("button", "Sign out").click();
        console.browser.find("textbox", "Admin token");
        assertTrue(console.browser.all(console.browser.driver(), "table", "License pools").isEmpty());

        // A wrong token is refused in the broker's words, as an alert.
        console.type(console.browser.driver().findElement(By.tagName("form")), "textbox", "Admin token", "not-a-token-at-all");
        console.browser.find("button", "Sign in").click();
        WebElement alert = console.browser.await("the refusal", () -> console.browser.all(console.browser.driver(), "alert").stream().findFirst());
        assertEquals("unknown token", alert.getText());
    }

    /**
     * The chart draws GetUsageHistory's answer (CONTRACT.md section 7): a bar per step at its peak,
     * a mark where acquires were denied. This broker has no usage history yet, so the region says
     * so, and the test seam hands the chart module an answer of the contract's shape.
     */
    @Test
    void theUtilizationChartDrawsPeaksAndDenialsOfAUsageHistoryAnswer() {
        String account = console.account("Chart Example", 5);
        console.signIn(console.accountAdmin(account));
        WebElement region = console.region("License Utilization");
        WebElement chart = console.browser.find(region, "img", "License utilization chart");
        assertTrue(chart.isDisplayed());
        Object drawn = console.browser.driver().executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const account = arguments[0];
                import('/js/chart.js').then((m) => {
                  const now = Date.parse('2030-01-01T12:30:30Z');
                  const answer = {series: [{pool_id: account, points: [
                    {start_time: '2030-01-01T12:28:00Z', peak_in_use: '3', granted: '4', denied: '0', denied_by_reason: {}},
                    {start_time: '2030-01-01T12:29:00Z', peak_in_use: '5', granted: '6', denied: '2',
                     denied_by_reason: {NO_LICENSE_AVAILABLE: '2'}},
                    {start_time: '2030-01-01T12:30:00Z', peak_in_use: '4', granted: '1', denied: '0', denied_by_reason: {}}]}]};
                  const box = document.createElement('div');
                  const svg = m.drawUtilization(box, answer, {step: 'minute', poolId: account, capacity: 5, now});
                  done([svg.getAttribute('role'), svg.getAttribute('aria-label'),
                    [...svg.querySelectorAll('rect.bar')].map((r) => r.getAttribute('data-peak')).join(','),
                    [...svg.querySelectorAll('circle.denied')].map((c) => c.getAttribute('data-denied')).join(','),
                    box.querySelector('#utilization-summary').textContent]);
                }, (e) => done(String(e)));
                """, account);
        assertTrue(drawn instanceof List<?>, String.valueOf(drawn));
        List<?> parts = (List<?>) drawn;
        assertEquals(List.of("img", "License utilization chart", "3,5,4", "2"), parts.subList(0, 4));
        assertTrue(String.valueOf(parts.get(4)).startsWith("Peak 5 in use of a pool of 5; 2 denied"), String.valueOf(parts.get(4)));
        assertFalse(region.getText().isBlank());
        new Select(console.browser.find(region, "combobox", "Step")).selectByVisibleText("Hour");
        console.browser.find(region, "img", "License utilization chart");
    }
}
