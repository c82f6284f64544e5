package io.licensebroker.broker.metrics;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.PoolRow;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The contract's pool gauges, {@code license_pool_dedicated}, {@code license_pool_in_use} and
 * {@code license_pool_available} labelled {@code account}, {@code pool}, {@code product}, read from
 * {@link LicenseService#usage} at scrape time: each scrape shows exactly what GetLicenseUsage
 * answers at that moment, whatever the store (embedded or Redis, one node or many), and a pool
 * that disappears disappears from the next scrape. Nothing is cached between scrapes. Every product
 * the store holds state for is walked ({@link LicenseService#products}), seat products included,
 * and their in_use counts seats as GetLicenseUsage does.
 *
 * <p>Cardinality is bounded: at most {@code maxPools} (account, pool, product) triples are
 * exported per scrape, in a stable order (account id, product, then the table's own order:
 * account row first, parents before children), so the same pools stay exported from one scrape to
 * the next. {@code license_metrics_pools_dropped} counts the triples left out, so a cut is visible
 * and alertable rather than silent.
 */
final class PoolGauges implements MultiCollector {
    static final String DEDICATED = "license_pool_dedicated";
    static final String IN_USE = "license_pool_in_use";
    static final String AVAILABLE = "license_pool_available";
    static final String DROPPED = "license_metrics_pools_dropped";
    /** Exposed as {@code license_metrics_pool_read_errors_total}. */
    static final String READ_ERRORS = "license_metrics_pool_read_errors";

    /** A scrape gives up on the accounts it could not read within this long (Prometheus' default timeout is 10s). */
    private static final Duration READ_BUDGET = Duration.ofSeconds(8);
    private static final Logger LOG = LoggerFactory.getLogger(PoolGauges.class);

    private final LicenseService service;
    private final int maxPools;
    /**
     * Collected here with the gauges rather than as a Micrometer counter, which the registry
     * collects before this collector runs: the count then always includes this scrape's failures.
     */
    private final AtomicLong readErrors = new AtomicLong();

    PoolGauges(LicenseService service, int maxPools) {
        if (maxPools < 0) {
            throw new IllegalArgumentException("maxPools cannot be negative: " + maxPools);
        }
        this.service = service;
        this.maxPools = maxPools;
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of(DEDICATED, IN_USE, AVAILABLE, DROPPED, READ_ERRORS);
    }

    @Override
    public MetricSnapshots collect() {
        GaugeSnapshot.Builder dedicated = GaugeSnapshot.builder().name(DEDICATED)
                .help("Licenses dedicated to the pool (for the account row: the subscription's licenses minus live offline licenses)");
        GaugeSnapshot.Builder inUse = GaugeSnapshot.builder().name(IN_USE)
                .help("Licenses in use in the pool (Assigned): live sessions, and seats held by licensed users");
        GaugeSnapshot.Builder available = GaugeSnapshot.builder().name(AVAILABLE)
                .help("Licenses the pool can still grant: pool minus in use");
        long exported = 0;
        long dropped = 0;
        for (LicenseUsage table : read()) {
            for (PoolRow row : table.rows()) {
                if (exported >= maxPools) {
                    dropped++;
                    continue;
                }
                exported++;
                Labels labels = Labels.of("account", table.accountId(), "pool", row.poolId(), "product", table.product());
                dedicated.dataPoint(point(labels, row.dedicated()));
                inUse.dataPoint(point(labels, row.inUse()));
                available.dataPoint(point(labels, row.available()));
            }
        }
        GaugeSnapshot droppedGauge = GaugeSnapshot.builder().name(DROPPED)
                .help("(account, pool, product) series left out of the pool gauges by --metrics-max-pools at the last scrape")
                .dataPoint(point(Labels.EMPTY, dropped))
                .build();
        CounterSnapshot errors = CounterSnapshot.builder().name(READ_ERRORS)
                .help("Accounts whose license tables a scrape could not read (each left out of that scrape)")
                .dataPoint(CounterDataPointSnapshot.builder().value(readErrors.get()).build())
                .build();
        return MetricSnapshots.of(dedicated.build(), inUse.build(), available.build(), droppedGauge, errors);
    }

    private static GaugeDataPointSnapshot point(Labels labels, long value) {
        return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    /**
     * Every account's license tables, sorted. All reads are started at once and awaited against
     * one deadline, so a remote store costs one round trip's latency per scrape, not one per
     * table; an account that cannot be read is left out of this scrape and counted.
     */
    private List<LicenseUsage> read() {
        long deadline = System.nanoTime() + READ_BUDGET.toNanos();
        List<Account> accounts;
        try {
            accounts = new ArrayList<>(service.accounts().toCompletableFuture().get(READ_BUDGET.toNanos(), TimeUnit.NANOSECONDS));
        } catch (Exception e) {
            failed("the account list", e);
            return List.of();
        }
        accounts.sort(Comparator.comparing(Account::id));
        List<CompletableFuture<List<LicenseUsage>>> reads = new ArrayList<>(accounts.size());
        for (Account account : accounts) {
            reads.add(service.products(account.id()).toCompletableFuture().thenCompose(products -> {
                List<CompletableFuture<Decision<LicenseUsage>>> tables = products.stream()
                        .map(product -> service.usage(account.id(), product).toCompletableFuture()).toList();
                return CompletableFuture.allOf(tables.toArray(CompletableFuture[]::new)).thenApply(done -> tables.stream()
                        .map(CompletableFuture::join)
                        // An account deleted meanwhile has no table any more: nothing to show.
                        .filter(Decision::isGranted)
                        .map(Decision::value)
                        .toList());
            }));
        }
        List<LicenseUsage> out = new ArrayList<>();
        for (int i = 0; i < reads.size(); i++) {
            try {
                out.addAll(reads.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (Exception e) {
                failed("account " + accounts.get(i).id(), e);
            }
        }
        return out;
    }

    private void failed(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        readErrors.incrementAndGet();
        LOG.warn("pool gauges: could not read {}, left out of this scrape: {}", what, e.toString());
    }
}
