package io.licensebroker.loadtest;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Drives virtual agents against a {@link LoadTarget}: acquire, hold, optionally renew, release.
 * Closed loop (each agent waits for its answer) by default; open loop issues operations at a fixed
 * rate and measures from each operation's intended start, so a stall is not hidden by the driver
 * slowing down with it (no coordinated omission). Agents are callbacks, not threads.
 */
final class LoadDriver {
    /** Open loop: operations in flight beyond this are counted as errors instead of queued. */
    private static final int MAX_IN_FLIGHT = 20_000;
    private static final Duration RETRY_AFTER_REFUSAL = Duration.ofMillis(1);
    private static final Duration RETRY_AFTER_ERROR = Duration.ofMillis(20);

    record Options(int agents, Duration duration, Duration warmup, Duration hold, boolean renew,
                   boolean openLoop, double rate) {
        Options {
            if (agents < 1) {
                throw new IllegalArgumentException("agents must be at least 1: " + agents);
            }
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("duration must be positive: " + duration);
            }
            if (openLoop && rate <= 0) {
                throw new IllegalArgumentException("open loop needs a positive rate: " + rate);
            }
        }
    }

    private final LoadTarget target;
    private final Options options;
    private final RunStats stats;
    private final PrintStream progress;
    private final ScheduledExecutorService timers;
    private final LongAdder ops = new LongAdder();
    private final AtomicLong inFlight = new AtomicLong();
    private volatile long measureFrom;
    private volatile long stopAt;

    private LoadDriver(LoadTarget target, Options options, PrintStream progress) {
        this.target = target;
        this.options = options;
        this.stats = new RunStats(target.quota());
        this.progress = progress;
        this.timers = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "load-timers");
            t.setDaemon(true);
            return t;
        });
    }

    static RunResult run(String name, LoadTarget target, Options options, PrintStream progress) throws Exception {
        return new LoadDriver(target, options, progress).run(name);
    }

    private RunResult run(String name) throws Exception {
        long start = System.nanoTime();
        measureFrom = start + options.warmup().toNanos();
        stopAt = measureFrom + options.duration().toNanos();
        CountDownLatch finished = new CountDownLatch(options.openLoop() ? 1 : options.agents());
        if (options.openLoop()) {
            startOpenLoop(finished);
        } else {
            for (int a = 0; a < options.agents(); a++) {
                int agent = a;
                timers.execute(() -> startOp(agent, finished));
            }
        }
        long lastOps = 0;
        long lastTick = System.nanoTime();
        while (!finished.await(1, TimeUnit.SECONDS)) {
            long now = System.nanoTime();
            long total = ops.sum();
            var interval = stats.interval();
            if (progress != null) {
                progress.printf(Locale.ROOT, "%-14s %5.0fs  %9.0f ops/s  acquire p99 %7.3f ms  errors %d  held %d%n", name,
                        (now - start) / 1e9, (total - lastOps) / ((now - lastTick) / 1e9),
                        interval.get(RunStats.Rpc.ACQUIRE).getValueAtPercentile(99) / 1e6, stats.errorCount(), stats.heldNow());
            }
            lastOps = total;
            lastTick = now;
        }
        timers.shutdownNow();
        long leaked = target.inUse();
        double seconds = options.duration().toNanos() / 1e9;
        return new RunResult(name, options.agents(), seconds, ops.sum(), stats.totals(), stats.errors(),
                stats.deniedCount(), stats.oversubscribed(), stats.maxHeld(), leaked);
    }

    // ---------------------------------------------------------------- closed loop

    private void startOp(int agent, CountDownLatch finished) {
        long t0 = System.nanoTime();
        if (t0 >= stopAt) {
            finished.countDown();
            return;
        }
        target.acquire(agent).whenComplete((held, failure) -> {
            long t1 = System.nanoTime();
            if (failure != null) {
                Duration retry = failed(failure, t0) ? RETRY_AFTER_REFUSAL : RETRY_AFTER_ERROR;
                timers.schedule(() -> startOp(agent, finished), retry.toNanos(), TimeUnit.NANOSECONDS);
                return;
            }
            stats.granted();
            measure(RunStats.Rpc.ACQUIRE, t0, t1);
            afterAcquire(agent, held, t0, () -> timers.execute(() -> startOp(agent, finished)));
        });
    }

    private void afterAcquire(int agent, LoadTarget.Held held, long t0, Runnable next) {
        if (options.hold().isZero()) {
            maybeRenew(agent, held, t0, next);
        } else {
            timers.schedule(() -> maybeRenew(agent, held, t0, next), options.hold().toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void maybeRenew(int agent, LoadTarget.Held held, long t0, Runnable next) {
        if (!options.renew()) {
            release(agent, held, t0, next);
            return;
        }
        long r0 = System.nanoTime();
        target.renew(agent, held).whenComplete((v, failure) -> {
            if (failure != null) {
                failed(failure, t0);
            } else {
                measure(RunStats.Rpc.RENEW, r0, System.nanoTime());
            }
            release(agent, held, t0, next);
        });
    }

    private void release(int agent, LoadTarget.Held held, long t0, Runnable next) {
        stats.releasing();
        long r0 = System.nanoTime();
        target.release(agent, held).whenComplete((v, failure) -> {
            long r1 = System.nanoTime();
            if (failure != null) {
                failed(failure, t0);
            } else {
                measure(RunStats.Rpc.RELEASE, r0, r1);
                measure(RunStats.Rpc.OP, t0, r1);
                if (t0 >= measureFrom && t0 < stopAt) {
                    ops.increment();
                }
            }
            next.run();
        });
    }

    // ---------------------------------------------------------------- open loop

    private void startOpenLoop(CountDownLatch finished) {
        long periodNanos = Math.max(1, (long) (1e9 / options.rate()));
        long first = System.nanoTime();
        AtomicLong issued = new AtomicLong();
        timers.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            // Catch up on every tick that was due: intended start times stay on the schedule.
            long due = (now - first) / periodNanos + 1;
            while (issued.get() < due) {
                long intended = first + issued.getAndIncrement() * periodNanos;
                if (intended >= stopAt) {
                    if (inFlight.get() == 0) {
                        finished.countDown();
                    }
                    return;
                }
                int agent = (int) (issued.get() % options.agents());
                if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
                    inFlight.decrementAndGet();
                    stats.error("OVERLOADED_DRIVER");
                    continue;
                }
                openOp(agent, intended);
            }
        }, 0, Math.max(100_000, periodNanos), TimeUnit.NANOSECONDS);
    }

    private void openOp(int agent, long intended) {
        target.acquire(agent).whenComplete((held, failure) -> {
            if (failure != null) {
                failed(failure, intended);
                inFlight.decrementAndGet();
                return;
            }
            stats.granted();
            measure(RunStats.Rpc.ACQUIRE, intended, System.nanoTime());
            afterAcquire(agent, held, intended, inFlight::decrementAndGet);
        });
    }

    // ---------------------------------------------------------------- helpers

    private void measure(RunStats.Rpc rpc, long from, long to) {
        if (from >= measureFrom && from < stopAt) {
            stats.record(rpc, to - from);
        }
    }

    /** Records a failure; answers true when it was a refusal for lack of licenses. */
    private boolean failed(Throwable failure, long started) {
        Throwable cause = unwrap(failure);
        boolean counts = started >= measureFrom && started < stopAt;
        if (cause instanceof Refused) {
            if (counts) {
                stats.denied();
            }
            return true;
        }
        if (counts) {
            stats.error(cause instanceof StatusRuntimeException sre ? sre.getStatus().getCode().name()
                    : Status.fromThrowable(cause).getCode() == Status.Code.UNKNOWN ? cause.getClass().getSimpleName()
                    : Status.fromThrowable(cause).getCode().name());
        }
        return false;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
