package io.licensebroker.broker.cli;

import io.licensebroker.broker.app.Durations;
import io.licensebroker.client.LicenseAdminClient;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The options every admin command shares: where the broker is, the admin token, transport
 * security, the call deadline and the output format. {@code --target} and {@code --token} default
 * to the environment ({@value #TARGET_ENV}, {@value #TOKEN_ENV}) through {@link #environment}.
 */
final class AdminOptions {
    static final String TARGET_ENV = "BROKER_TARGET";
    static final String TOKEN_ENV = "BROKER_TOKEN";
    static final String DEFAULT_TARGET = "localhost:7443";

    enum Format { TABLE, JSON, CSV }

    @Option(names = "--target", paramLabel = "<host:port>",
            description = "broker address: host:port, several separated by commas (failover), or dns:///name:port "
                    + "[env " + TARGET_ENV + ", default " + DEFAULT_TARGET + "]")
    String target;

    @Option(names = "--token", paramLabel = "<token>", description = "admin token [env " + TOKEN_ENV + "]")
    String token;

    @Option(names = {"-o", "--output"}, paramLabel = "<format>", defaultValue = "table",
            description = "table (for people), json (for scripts; proto JSON with the contract's field names), "
                    + "or csv (for spreadsheets; usage history and report denials)")
    Format output;

    @Option(names = "--tls", description = "use TLS, trusting the JDK's root certificates")
    boolean tls;

    @Option(names = "--trust-cert", paramLabel = "<pem>", description = "use TLS, trusting the certificates in this PEM file")
    Path trustCert;

    @Option(names = "--client-cert", paramLabel = "<pem>",
            description = "use TLS with this client certificate (for brokers started with --tls-client-ca); needs --client-key")
    Path clientCert;

    @Option(names = "--client-key", paramLabel = "<pem>", description = "the PKCS#8 private key of --client-cert")
    Path clientKey;

    @Option(names = "--authority", paramLabel = "<name>", description = "the host name to verify the broker's TLS certificate against")
    String authority;

    @Option(names = "--timeout", paramLabel = "<duration>", defaultValue = "10s", converter = DurationConverter.class,
            description = "deadline of each call (e.g. 10s, 1m) [default 10s]")
    Duration timeout;

    /**
     * Defaults of {@code --target} and {@code --token} from the given environment (not
     * {@code System.getenv}, so tests pass their own). Other options keep their declared defaults.
     */
    static CommandLine.IDefaultValueProvider environment(Map<String, String> env) {
        return (ArgSpec arg) -> {
            if (arg instanceof OptionSpec option) {
                return switch (option.longestName()) {
                    case "--target" -> nonBlank(env.get(TARGET_ENV), DEFAULT_TARGET);
                    case "--token" -> nonBlank(env.get(TOKEN_ENV), null);
                    case "--api-key" -> nonBlank(env.get(AgentCommand.API_KEY_ENV), null);
                    default -> null;
                };
            }
            return null;
        };
    }

    /** The admin client these options describe; a usage error when they are incomplete or malformed. */
    LicenseAdminClient connect(CommandLine commandLine) {
        if (token == null || token.isBlank()) {
            throw new CommandLine.ParameterException(commandLine, "no admin token: pass --token or set " + TOKEN_ENV);
        }
        try {
            LicenseAdminClient.Builder builder = LicenseAdminClient.builder().target(target).token(token).callTimeout(timeout);
            if (trustCert != null) {
                builder.trustCertificates(trustCert);
            } else if (tls) {
                builder.useTransportSecurity();
            }
            if ((clientCert == null) != (clientKey == null)) {
                throw new IllegalArgumentException("--client-cert and --client-key go together");
            }
            if (clientCert != null) {
                builder.clientCertificate(clientCert, clientKey);
            }
            if (authority != null) {
                builder.authority(authority);
            }
            return builder.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CommandLine.ParameterException(commandLine, e.getMessage(), e);
        }
    }

    private static String nonBlank(String value, String otherwise) {
        return value == null || value.isBlank() ? otherwise : value;
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration d = Durations.parse(value);
            if (d.isNegative() || d.isZero()) {
                throw new CommandLine.TypeConversionException("must be positive: " + value);
            }
            return d;
        }
    }
}
