package io.licensebroker.loadtest;

import io.licensebroker.broker.app.Durations;
import picocli.CommandLine;

import java.time.Duration;

/** Durations as the broker's flags take them: 30s, 2m, 500ms or ISO-8601. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        return Durations.parse(value);
    }
}
