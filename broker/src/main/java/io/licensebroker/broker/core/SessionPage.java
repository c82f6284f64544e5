package io.licensebroker.broker.core;

import java.util.List;

/** One page of sessions; {@code nextPageToken} is null on the last page. */
public record SessionPage(List<Session> sessions, String nextPageToken) {
    public SessionPage {
        sessions = List.copyOf(sessions);
    }
}
