package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.store.memory.proto.StoredInstant;
import io.licensebroker.broker.store.memory.proto.StoredLicenseModel;
import io.licensebroker.broker.store.memory.proto.StoredSeat;
import io.licensebroker.broker.store.memory.proto.StoredSeatEvent;

import java.time.Instant;

/** The journal form of seats, their events and the license model (see journal.proto). */
final class SeatCodec {
    private static final String MODEL_PREFIX = "LICENSE_MODEL_";

    private SeatCodec() {
    }

    static StoredLicenseModel model(LicenseModel m) {
        return StoredLicenseModel.valueOf(MODEL_PREFIX + m.name());
    }

    /** Journals written before seats existed hold no model: those subscriptions are sessions. */
    static LicenseModel model(StoredLicenseModel m) {
        return m == StoredLicenseModel.LICENSE_MODEL_UNSPECIFIED || m == StoredLicenseModel.UNRECOGNIZED
                ? LicenseModel.SESSION : LicenseModel.valueOf(m.name().substring(MODEL_PREFIX.length()));
    }

    static StoredSeat seat(Seat s) {
        StoredSeat.Builder b = StoredSeat.newBuilder().setAccountId(s.accountId()).setProduct(s.product())
                .setUserId(s.userId()).setPoolId(s.poolId()).setGrantedAt(instant(s.grantedAt()));
        if (s.isBound()) {
            b.setMachineId(s.machineId()).setActivationId(s.activationId()).setBoundAt(instant(s.boundAt()));
        }
        return b.build();
    }

    static Seat seat(StoredSeat s) {
        Seat seat = Seat.granted(s.getAccountId(), s.getProduct(), s.getUserId(), s.getPoolId(), instant(s.getGrantedAt()));
        return s.hasMachineId() ? seat.boundTo(s.getMachineId(), s.getActivationId(), instant(s.getBoundAt())) : seat;
    }

    static StoredSeatEvent removed(LedgerEvent.SeatRemoved e) {
        return event(e.product(), e.userId(), e.at()).build();
    }

    static StoredSeatEvent bound(LedgerEvent.SeatBound e) {
        return event(e.product(), e.userId(), e.at()).setMachineId(e.machineId()).setActivationId(e.activationId()).build();
    }

    static StoredSeatEvent unbound(LedgerEvent.SeatUnbound e) {
        return event(e.product(), e.userId(), e.at()).build();
    }

    static LedgerEvent.SeatRemoved removed(StoredSeatEvent e) {
        return new LedgerEvent.SeatRemoved(e.getProduct(), e.getUserId(), instant(e.getAt()));
    }

    static LedgerEvent.SeatBound bound(StoredSeatEvent e) {
        if (!e.hasMachineId() || !e.hasActivationId()) {
            throw new IllegalArgumentException("a seat binding without machine or activation id");
        }
        return new LedgerEvent.SeatBound(e.getProduct(), e.getUserId(), e.getMachineId(), e.getActivationId(), instant(e.getAt()));
    }

    static LedgerEvent.SeatUnbound unbound(StoredSeatEvent e) {
        return new LedgerEvent.SeatUnbound(e.getProduct(), e.getUserId(), instant(e.getAt()));
    }

    private static StoredSeatEvent.Builder event(String product, String userId, Instant at) {
        return StoredSeatEvent.newBuilder().setProduct(product).setUserId(userId).setAt(instant(at));
    }

    private static StoredInstant instant(Instant i) {
        return StoredInstant.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    private static Instant instant(StoredInstant i) {
        return Instant.ofEpochSecond(i.getSeconds(), i.getNanos());
    }
}
