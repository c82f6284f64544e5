package io.licensebroker.broker.testing;

import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.SearchContext;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.FluentWait;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * Debian's chromium, headless, driven through its chromedriver, and elements found the way people
 * and assistive technology meet them: by accessible role and name, as the browser computes them.
 * Missing browser packages fail the test at once, saying which to install (never a skip).
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** What a person waits at most for the page to show something (it polls every 2 s). */
    public static final Duration PATIENCE = Duration.ofSeconds(10);
    private static final Duration EVERY = Duration.ofMillis(100);

    /** Candidate elements of each role (native elements first: the page uses them), checked by the browser's own role and name. */
    private static final Map<String, String> CANDIDATES = Map.ofEntries(
            Map.entry("button", "button, [role=button], input[type=submit], input[type=button]"),
            Map.entry("textbox", "input:not([type]), input[type=text], input[type=password], input[type=email], textarea, [role=textbox]"),
            Map.entry("spinbutton", "input[type=number], [role=spinbutton]"),
            Map.entry("combobox", "select, [role=combobox]"),
            Map.entry("checkbox", "input[type=checkbox], [role=checkbox]"),
            Map.entry("table", "table, [role=table]"),
            Map.entry("columnheader", "th, [role=columnheader]"),
            Map.entry("row", "tr, [role=row]"),
            Map.entry("region", "section, [role=region]"),
            Map.entry("dialog", "dialog, [role=dialog]"),
            Map.entry("alert", "[role=alert]"),
            Map.entry("img", "img, svg, [role=img]"),
            Map.entry("link", "a[href], [role=link]"),
            Map.entry("option", "option, [role=option]"),
            Map.entry("heading", "h1, h2, h3, [role=heading]"));

    private final ChromeDriver driver;
    private final Path screenshots;

    private Browser(ChromeDriver driver, Path screenshots) {
        this.driver = driver;
        this.screenshots = screenshots;
    }

    /**
     * A fresh browser (its own profile in {@code profile}) saving downloads to {@code downloads} and
     * screenshots to {@code screenshots}.
     */
    public static Browser start(Path profile, Path downloads, Path screenshots) {
        for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(p)) {
                throw new IllegalStateException("the console's browser tests need " + p + ": install Debian's chromium and "
                        + "chromium-driver (apt-get install chromium chromium-driver; .ci/run does it when they are missing)");
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1400,1000", "--user-data-dir=" + profile.toAbsolutePath());
        options.setExperimentalOption("prefs", Map.of(
                "download.default_directory", downloads.toAbsolutePath().toString(),
                "download.prompt_for_download", false));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        try {
            Files.createDirectories(screenshots);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Browser(new ChromeDriver(service, options), screenshots);
    }

    public ChromeDriver driver() {
        return driver;
    }

    public void open(String url) {
        driver.get(url);
    }

    /** The one shown element of {@code role} named {@code name}, waiting for it as a person would. */
    public WebElement find(String role, String name) {
        return find(driver, role, name);
    }

    public WebElement find(SearchContext within, String role, String name) {
        return await(role + " '" + name + "'", () -> {
            List<WebElement> found = all(within, role, name);
            if (found.size() > 1) {
                throw new IllegalStateException(found.size() + " elements of role " + role + " named '" + name + "'");
            }
            return found.stream().findFirst();
        });
    }

    /** Every shown element of {@code role} named {@code name} now (no waiting). */
    public List<WebElement> all(SearchContext within, String role, String name) {
        String css = CANDIDATES.get(role);
        if (css == null) {
            throw new IllegalArgumentException("no candidates known for role " + role);
        }
        List<WebElement> matches = new ArrayList<>();
        for (WebElement e : within.findElements(By.cssSelector(css))) {
            try {
                if (e.isDisplayed() && is(role, e.getAriaRole()) && name.equals(e.getAccessibleName().strip())) {
                    matches.add(e);
                }
            } catch (StaleElementReferenceException gone) {
                // redrawn by a poll meanwhile: the next look finds its successor
            }
        }
        return matches;
    }

    /** ARIA 1.3 calls "img" "image" too, and browsers report either. */
    private static boolean is(String role, String reported) {
        return role.equals(reported) || (role.equals("img") && "image".equals(reported));
    }

    /** The shown elements of {@code role}, whatever their names. */
    public List<WebElement> all(SearchContext within, String role) {
        List<WebElement> matches = new ArrayList<>();
        for (WebElement e : within.findElements(By.cssSelector(CANDIDATES.get(role)))) {
            try {
                if (e.isDisplayed() && is(role, e.getAriaRole())) {
                    matches.add(e);
                }
            } catch (StaleElementReferenceException gone) {
                // see above
            }
        }
        return matches;
    }

    /**
     * Waits until {@code probe} answers (an exception is "not yet"); fails naming {@code what} after
     * {@link #PATIENCE}. On the calling thread (Selenium's wait), so probes may wait for elements too.
     */
    public <T> T await(String what, Callable<Optional<T>> probe) {
        Exception[] last = new Exception[1];
        try {
            return new FluentWait<>(driver).withTimeout(PATIENCE).pollingEvery(EVERY).until(d -> {
                try {
                    return probe.call().orElse(null);
                } catch (Exception e) {
                    last[0] = e;
                    return null;
                }
            });
        } catch (TimeoutException e) {
            screenshot("failed-waiting");
            throw new AssertionError("waited " + PATIENCE + " for " + what + (last[0] == null ? "" : "; last error: " + last[0]), e);
        }
    }

    /** Saves what the page shows now as {@code <name>.png}. */
    public Path screenshot(String name) {
        Path file = screenshots.resolve(name + ".png");
        try {
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    @Override
    public void close() {
        driver.quit();
    }
}
