package io.licensebroker.broker.core;

import java.time.Instant;

/**
 * A seat as "Licensed Users" shows it: the seat, and until when an offline license binds it (null:
 * none). {@code created} is true only in the answer of the grant that gave the user the seat (false
 * for a grant that found the seat already held, and in listings), so the edge can count new seats
 * exactly, whatever the clock says.
 */
public record LicensedUser(Seat seat, Instant offlineUntil, boolean created) {
    /** A seat as read back (not created by this answer's call). */
    public LicensedUser(Seat seat, Instant offlineUntil) {
        this(seat, offlineUntil, false);
    }
}
