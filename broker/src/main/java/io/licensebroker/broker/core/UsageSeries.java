package io.licensebroker.broker.core;

import java.util.List;

/** The usage history of one pool: a point per step of the query's range, oldest first. */
public record UsageSeries(String poolId, List<UsagePoint> points) {
    public UsageSeries {
        points = List.copyOf(points);
    }
}
