package io.licensebroker.loadtest;

import org.HdrHistogram.Histogram;

import java.util.Map;

/** The outcome of one run: throughput, latency percentiles (ms) per RPC, errors and the checks. */
record RunResult(String name, int agents, double seconds, long ops, Map<RunStats.Rpc, Histogram> latencies,
                 Map<String, Long> errors, long denied, long oversubscribed, long maxHeld, long leaked) {

    double opsPerSec() {
        return ops / seconds;
    }

    double percentileMs(RunStats.Rpc rpc, double percentile) {
        Histogram h = latencies.get(rpc);
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
    }

    double maxMs(RunStats.Rpc rpc) {
        Histogram h = latencies.get(rpc);
        return h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1e6;
    }

    long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Correct when nothing was ever held beyond the quota and nothing stayed in use after the run. */
    boolean correct() {
        return oversubscribed == 0 && leaked <= 0;
    }
}
