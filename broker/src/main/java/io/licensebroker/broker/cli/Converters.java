package io.licensebroker.broker.cli;

import io.licensebroker.broker.app.Durations;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.UsagePolicy;
import picocli.CommandLine;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Option converters of the admin commands. */
final class Converters {
    private Converters() {
    }

    /**
     * An instant as admins write it: ISO-8601 ({@code 2027-01-01T00:00:00Z}), a date (its start,
     * UTC), or a duration from now ({@code 365d}, {@code P30D}, {@code 12h}).
     */
    static final class Expiry implements CommandLine.ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            String v = value.strip();
            try {
                return Instant.parse(v);
            } catch (DateTimeParseException notAnInstant) {
                try {
                    return LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
                } catch (DateTimeParseException notADate) {
                    try {
                        return Instant.now().plus(Durations.parse(v));
                    } catch (IllegalArgumentException notADuration) {
                        throw new CommandLine.TypeConversionException("'" + value
                                + "' is not an instant (2027-01-01T00:00:00Z), a date (2027-01-01) or a duration from now (365d, P30D)");
                    }
                }
            }
        }
    }

    /**
     * A moment of the past as admins write it for reports: ISO-8601 ({@code 2030-01-01T10:00:00Z}),
     * a date (its start, UTC), {@code now}, or a duration before now ({@code -2h}, {@code -7d}).
     */
    static final class Moment implements CommandLine.ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            String v = value.strip();
            if (v.equalsIgnoreCase("now")) {
                return Instant.now();
            }
            try {
                if (v.startsWith("-")) {
                    return Instant.now().minus(Durations.parse(v.substring(1)));
                }
                try {
                    return Instant.parse(v);
                } catch (DateTimeParseException notAnInstant) {
                    return LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
                }
            } catch (IllegalArgumentException | DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("'" + value
                        + "' is not an instant (2030-01-01T10:00:00Z), a date (2030-01-01), now, or a time before now (-2h, -7d)");
            }
        }
    }

    /** A usage history step: {@code 1m}, {@code 1h} or {@code 1d} (or the same durations written otherwise). */
    static final class Step implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                Duration d = Durations.parse(value);
                if (d.equals(Duration.ofMinutes(1)) || d.equals(Duration.ofHours(1)) || d.equals(Duration.ofDays(1))) {
                    return d;
                }
            } catch (IllegalArgumentException notADuration) {
                // the message below says what is accepted
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a step: 1m, 1h or 1d");
        }
    }

    /** {@code unrestricted}, {@code member-based} or {@code strict} (any case, '-' or '_'). */
    static final class Policy implements CommandLine.ITypeConverter<UsagePolicy> {
        @Override
        public UsagePolicy convert(String value) {
            String name = "USAGE_POLICY_" + value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
            for (UsagePolicy p : UsagePolicy.values()) {
                if (p != UsagePolicy.USAGE_POLICY_UNSPECIFIED && p != UsagePolicy.UNRECOGNIZED && p.name().equals(name)) {
                    return p;
                }
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a policy: unrestricted, member-based or strict");
        }
    }

    /** {@code account-admin} or {@code super-admin}. */
    static final class Role implements CommandLine.ITypeConverter<AdminRole> {
        @Override
        public AdminRole convert(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "account-admin" -> AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN;
                case "super-admin" -> AdminRole.ADMIN_ROLE_SUPER_ADMIN;
                case "organization-admin" -> AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN;
                default -> throw new CommandLine.TypeConversionException("'" + value
                        + "' is not a role: account-admin, super-admin or organization-admin");
            };
        }
    }

    /** {@code session}, {@code node-locked} or {@code floating} (any case, '-' or '_'). */
    static final class Model implements CommandLine.ITypeConverter<LicenseModel> {
        @Override
        public LicenseModel convert(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "session" -> LicenseModel.LICENSE_MODEL_SESSION;
                case "node-locked" -> LicenseModel.LICENSE_MODEL_NODE_LOCKED;
                case "floating" -> LicenseModel.LICENSE_MODEL_FLOATING;
                default -> throw new CommandLine.TypeConversionException("'" + value + "' is not a license model: session, node-locked or floating");
            };
        }
    }

    /** The model's name as the command line takes it: {@code LICENSE_MODEL_NODE_LOCKED} → {@code node-locked}; unset is session. */
    static String modelName(LicenseModel model) {
        return switch (model) {
            case LICENSE_MODEL_NODE_LOCKED -> "node-locked";
            case LICENSE_MODEL_FLOATING -> "floating";
            case LICENSE_MODEL_SESSION, LICENSE_MODEL_UNSPECIFIED -> "session";
            case UNRECOGNIZED -> "unknown";
        };
    }

    /** The policy's name as people say it: {@code USAGE_POLICY_MEMBER_BASED} → {@code MEMBER_BASED}. */
    static String policyName(UsagePolicy policy) {
        return policy.name().replaceFirst("^USAGE_POLICY_", "");
    }
}
