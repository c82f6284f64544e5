package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.DenialCount;
import io.licensebroker.broker.core.HistoryBucket;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.store.memory.proto.StoredDenialCount;
import io.licensebroker.broker.store.memory.proto.StoredHistoryBucket;
import io.licensebroker.broker.store.memory.proto.StoredHistoryRestored;
import io.licensebroker.broker.store.memory.proto.StoredHistoryStep;
import io.licensebroker.broker.store.memory.proto.StoredReason;
import io.licensebroker.broker.store.memory.proto.StoredReasonCount;
import io.licensebroker.broker.store.memory.proto.StoredUsageRecorded;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The journal form of the usage history's events (see journal.proto). */
final class HistoryCodec {
    private static final String STEP_PREFIX = "HISTORY_STEP_";

    private HistoryCodec() {
    }

    static StoredUsageRecorded recorded(LedgerEvent.UsageRecorded e) {
        StoredUsageRecorded.Builder b = StoredUsageRecorded.newBuilder().setMinuteMillis(e.minuteMillis());
        e.buckets().forEach(x -> b.addBuckets(bucket(x)));
        e.denials().forEach(x -> b.addDenials(denial(x)));
        return b.build();
    }

    static LedgerEvent.UsageRecorded recorded(StoredUsageRecorded r) {
        return new LedgerEvent.UsageRecorded(r.getMinuteMillis(), buckets(r.getBucketsList()), denials(r.getDenialsList()));
    }

    static StoredHistoryRestored restored(LedgerEvent.HistoryRestored e) {
        StoredHistoryRestored.Builder b = StoredHistoryRestored.newBuilder()
                .setStep(JournalCodec.toStored(e.step(), STEP_PREFIX, StoredHistoryStep.class));
        e.buckets().forEach(x -> b.addBuckets(bucket(x)));
        e.denials().forEach(x -> b.addDenials(denial(x)));
        return b.build();
    }

    static LedgerEvent.HistoryRestored restored(StoredHistoryRestored r) {
        HistoryStep step = JournalCodec.fromStored(r.getStep().name(), STEP_PREFIX, HistoryStep.class);
        return new LedgerEvent.HistoryRestored(step, buckets(r.getBucketsList()), denials(r.getDenialsList()));
    }

    private static StoredHistoryBucket bucket(HistoryBucket b) {
        StoredHistoryBucket.Builder out = StoredHistoryBucket.newBuilder().setProduct(b.product()).setPoolId(b.poolId())
                .setStartMillis(b.startMillis()).setStartLevel(b.startLevel()).setPeak(b.peak()).setEndLevel(b.endLevel())
                .setGranted(b.granted());
        b.deniedByReason().forEach((reason, n) -> out.addDenied(StoredReasonCount.newBuilder().setReason(reason(reason)).setCount(n)));
        return out.build();
    }

    private static List<HistoryBucket> buckets(List<StoredHistoryBucket> stored) {
        return stored.stream().map(b -> {
            Map<Reason, Long> denied = new EnumMap<>(Reason.class);
            b.getDeniedList().forEach(c -> denied.merge(reason(c.getReason()), c.getCount(), Long::sum));
            return new HistoryBucket(b.getProduct(), b.getPoolId(), b.getStartMillis(), b.getStartLevel(), b.getPeak(), b.getEndLevel(),
                    b.getGranted(), denied);
        }).toList();
    }

    private static StoredDenialCount denial(DenialCount c) {
        return StoredDenialCount.newBuilder().setProduct(c.product()).setPoolId(c.poolId()).setUserId(c.userId())
                .setReason(reason(c.reason())).setStartMillis(c.startMillis()).setCount(c.count())
                .setLastDeniedMillis(c.lastDeniedMillis()).build();
    }

    private static List<DenialCount> denials(List<StoredDenialCount> stored) {
        return stored.stream().map(c -> new DenialCount(c.getProduct(), c.getPoolId(), c.getUserId(), reason(c.getReason()),
                c.getStartMillis(), c.getCount(), c.getLastDeniedMillis())).toList();
    }

    private static StoredReason reason(Reason r) {
        return JournalCodec.toStored(r, JournalCodec.REASON_PREFIX, StoredReason.class);
    }

    private static Reason reason(StoredReason r) {
        return JournalCodec.fromStored(r.name(), JournalCodec.REASON_PREFIX, Reason.class);
    }
}
