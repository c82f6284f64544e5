package io.licensebroker.broker.e2e;

import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.UsagePolicy;
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
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

import static io.licensebroker.broker.e2e.ConsoleFixture.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page's other regions in chromium (seed 003): Licensed Users on a seat product (grant,
 * transfer, remove), Online Licenses (terminate), Registered Machines (deactivate), Offline
 * Licenses (issue and download the .lic), License Utilization under real load, and what each role is offered:
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

    /** A fresh account's real load, all of it within the one minute starting at {@code minute}. */
    private record ChartLoad(String account, Instant minute) {
    }

    /** What License Utilization shows for one step: its row of the table, its bar, the denial marks of the whole chart. */
    private record Shown(List<String> row, String bar, Map<Instant, String> marks, String summary) {
    }

    private String refused(String apiKey, String machine) {
        return GrpcClients.reason(assertThrows(StatusRuntimeException.class, () -> console.acquire(apiKey, machine)));
    }

    /**
     * Sessions through the broker's gRPC API: ann (no organization) fills the account pool's 3 and
     * is refused twice; tom fills sub-organization Chart Team's 2 dedicated licenses and is refused
     * once (a strict policy without fallback keeps each to their own pool). The broker counts each
     * call in the minute it reached it, between our asking and its answer; a load that straddles
     * a minute's end is done again on a new account rather than guessed at.
     */
    private ChartLoad chartLoad() {
        for (int attempt = 1; ; attempt++) {
            String account = console.account("Chart Example", 5);
            String team = console.organization(account, null, "Chart Team");
            console.root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(team).setProduct("KRE").setLicenses(2).build());
            console.root().setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(account)
                    .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
            String ann = console.userWithKey(account, "ann", null);
            String tom = console.userWithKey(account, "tom", team);
            Instant asked = Instant.now();
            for (int i = 0; i < 3; i++) {
                console.acquire(ann, "ann-" + i);
            }
            assertEquals("NO_LICENSE_AVAILABLE", refused(ann, "ann-3"));
            assertEquals("NO_LICENSE_AVAILABLE", refused(ann, "ann-4"));
            for (int i = 0; i < 2; i++) {
                console.acquire(tom, "tom-" + i);
            }
            assertEquals("ORGANIZATION_POOL_EXHAUSTED", refused(tom, "tom-2"));
            Instant minute = asked.truncatedTo(ChronoUnit.MINUTES);
            if (Instant.now().truncatedTo(ChronoUnit.MINUTES).equals(minute)) {
                return new ChartLoad(account, minute);
            }
            assertTrue(attempt < 3, "three loads in a row straddled a minute's end");
        }
    }

    /** The region now (null parts: not drawn); the table's cells read as text, whether scrolled into view or not. */
    private Shown shown(WebElement region, Instant step) {
        WebElement table = console.browser.all(region, "table", "License utilization data").stream().findFirst().orElseThrow();
        WebElement chart = console.browser.all(region, "img", "License utilization chart").stream().findFirst().orElseThrow();
        List<String> row = table.findElements(By.cssSelector("tbody tr")).stream()
                .filter(tr -> Instant.parse(tr.findElement(By.tagName("time")).getAttribute("datetime")).equals(step)).findFirst()
                .map(tr -> tr.findElements(By.cssSelector("th, td")).stream().skip(1).map(c -> c.getDomProperty("textContent").strip()).toList())
                .orElse(null);
        String bar = chart.findElements(By.cssSelector("rect.bar")).stream()
                .filter(r -> Instant.parse(r.getAttribute("data-start")).equals(step)).findFirst()
                .map(r -> r.getAttribute("data-peak")).orElse(null);
        Map<Instant, String> marks = new TreeMap<>();
        chart.findElements(By.cssSelector("circle.denied")).forEach(c -> marks.put(Instant.parse(c.getAttribute("data-start")), c.getAttribute("data-denied")));
        return new Shown(row, bar, marks, region.findElement(By.id("utilization-summary")).getText());
    }

    /**
     * Waits until the region shows {@code row} (Peak in use, Granted, Denied, Denied by reason) in
     * the table at {@code step}'s start, a bar of that peak there, that step's denial mark and no
     * other, and a summary starting with {@code summary} and ending "by {@code unit}.".
     */
    private void awaitShown(WebElement region, Instant step, List<String> row, String summary, String unit) {
        Shown want = new Shown(row, row.get(0), Map.of(step, row.get(2)), summary + "… by " + unit + ".");
        console.browser.await("License Utilization to show " + want, () -> {
            Shown now = shown(region, step);
            if (!want.row().equals(now.row()) || !want.bar().equals(now.bar()) || !want.marks().equals(now.marks())
                    || !now.summary().startsWith(summary) || !now.summary().endsWith(" by " + unit + ".")) {
                throw new IllegalStateException("it shows " + now);
            }
            return Optional.of(now);
        });
    }

    /**
     * License Utilization draws what the broker recorded of real load (GetUsageHistory, CONTRACT.md
     * section 7): the exact peak and the denials of the minute they happened in, as a bar, a denial
     * mark and a row of table "License utilization data" (the chart's text alternative); the same at
     * hour and day steps, and for a sub-organization's pool with its own peak and reason.
     */
    @Test
    void theUtilizationChartAndItsTableShowThePeakAndDenialsOfRealLoadByStepAndPool() {
        ChartLoad load = chartLoad();
        console.signIn(console.accountAdmin(load.account()));
        WebElement region = console.region("License Utilization");
        List<String> headers = List.of("Start", "Peak in use", "Granted", "Denied", "Denied by reason");
        console.browser.await("the data table's column headers " + headers, () -> Optional.of(console.browser.all(
                console.browser.find(region, "table", "License utilization data"), "columnheader").stream().map(WebElement::getText).toList())
                .filter(headers::equals));
        // Each row: Peak in use, Granted (nothing was released, so as many as the peak), Denied, Denied by reason.
        List<String> account = row(3, 3, 2, "no license available: 2");
        String accountSummary = "Peak 3 in use of a pool of 3; 2 denied, from ";
        awaitShown(region, load.minute(), account, accountSummary, "minute");
        console.browser.driver().executeScript("arguments[0].scrollIntoView()", region); // the screenshot is of the region
        console.browser.screenshot("utilization-minute");

        Select step = new Select(console.browser.find(region, "combobox", "Step"));
        step.selectByVisibleText("Hour");
        awaitShown(region, load.minute().truncatedTo(ChronoUnit.HOURS), account, accountSummary, "hour");
        step.selectByVisibleText("Day");
        Instant day = load.minute().truncatedTo(ChronoUnit.DAYS);
        awaitShown(region, day, account, accountSummary, "day");

        new Select(console.browser.find(region, "combobox", "Pool")).selectByVisibleText("Chart Team");
        List<String> team = row(2, 2, 1, "organization pool exhausted: 1");
        String teamSummary = "Peak 2 in use of a pool of 2; 1 denied, from ";
        awaitShown(region, day, team, teamSummary, "day");
        step.selectByVisibleText("Minute");
        awaitShown(region, load.minute(), team, teamSummary, "minute");
        assertTrue(console.browser.all(region, "alert").isEmpty());
    }
}
