package io.licensebroker.broker.core;

import java.time.Instant;

/** A seat as "Licensed Users" shows it: the seat, and until when an offline license binds it (null: none). */
public record LicensedUser(Seat seat, Instant offlineUntil) {
}
