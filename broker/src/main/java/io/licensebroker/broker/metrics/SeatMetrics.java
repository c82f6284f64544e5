package io.licensebroker.broker.metrics;

import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.grpc.SeatObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code license_seats_granted_total{product}} (GrantLicense calls that gave a user a seat; a
 * re-grant that found the seat held, and a transfer, which moves a seat, are not counted) and
 * {@code license_activations_total{outcome, reason, model}} (every decided ActivateLicense:
 * {@code model} is {@code node_locked} or {@code floating}, for a denial the product's model
 * ({@code session} on a mismatch) or {@code none} without a subscription).
 *
 * <p>Activations are rare next to acquires (one per agent start), so counters are found in a map
 * by their labels; the two granted series are registered up front so {@code rate()} starts from zero.
 * Products are bounded by the subscriptions bought, so the product label stays small.
 */
final class SeatMetrics implements SeatObserver {
    static final String GRANTED = "license.seats.granted";
    static final String ACTIVATIONS = "license.activations";
    static final String NO_MODEL = "none";

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Counter> granted = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> activations = new ConcurrentHashMap<>();

    SeatMetrics(MeterRegistry registry) {
        this.registry = registry;
        activation("granted", "ok", label(LicenseModel.NODE_LOCKED));
        activation("granted", "ok", label(LicenseModel.FLOATING));
    }

    @Override
    public void seatGranted(String product) {
        granted.computeIfAbsent(product, p -> Counter.builder(GRANTED)
                .description("Seats granted to licensed users (GrantLicense calls that gave a user a seat it did not hold)")
                .tag("product", p)
                .register(registry)).increment();
    }

    @Override
    public void activationDecided(Decision<Activation> decision, LicenseModel model) {
        String m = model == null ? NO_MODEL : label(model);
        if (decision instanceof Decision.Denied<Activation> d) {
            activation("denied", d.reason().name(), m).increment();
        } else {
            activation("granted", "ok", m).increment();
        }
    }

    private Counter activation(String outcome, String reason, String model) {
        return activations.computeIfAbsent(outcome + '/' + reason + '/' + model, k -> Counter.builder(ACTIVATIONS)
                .description("ActivateLicense decisions: granted, or denied with the denial reason, by the product's license model")
                .tag("outcome", outcome)
                .tag("reason", reason)
                .tag("model", model)
                .register(registry));
    }

    /** {@code NODE_LOCKED} → {@code node_locked}: label values in the Prometheus style. */
    static String label(LicenseModel model) {
        return model.name().toLowerCase(Locale.ROOT);
    }
}
