package io.licensebroker.broker.cli;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.licensebroker.client.LicenseBrokerException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.ReleaseSessionResponse;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RenewSessionResponse;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * {@code agent acquire|activate|renew|release}: what an agent does, one call per command, so a
 * person can try the broker from a shell (or a script can hold a license) without writing code.
 * Unlike the SDK, nothing renews the lease after the command ends: the session (or floating
 * activation) lapses one lease length later unless renewed or released.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Acquire a session or activate a seat, renew and release, as an agent would (with an API key).",
        subcommands = {AgentCommand.Acquire.class, AgentCommand.Activate.class, AgentCommand.Renew.class, AgentCommand.Release.class})
final class AgentCommand extends CommandGroup {
    static final String API_KEY_ENV = "LICENSE_BROKER_API_KEY";

    /** Where the broker is and the agent's key; the TLS options mean what they mean for the admin commands. */
    static final class AgentOptions {
        @Option(names = "--target", paramLabel = "<host:port>",
                description = "broker address [env " + AdminOptions.TARGET_ENV + ", default " + AdminOptions.DEFAULT_TARGET + "]")
        String target;

        @Option(names = "--api-key", paramLabel = "<key>", description = "the agent's API key [env " + API_KEY_ENV + "]")
        String apiKey;

        @Option(names = {"-o", "--output"}, paramLabel = "<format>", defaultValue = "table",
                description = "table (for people) or json (for scripts)")
        AdminOptions.Format output;

        @Option(names = "--trust-cert", paramLabel = "<pem>", description = "use TLS, trusting the certificates in this PEM file")
        Path trustCert;

        @Option(names = "--tls", description = "use TLS, trusting the JDK's root certificates")
        boolean tls;

        @Option(names = "--timeout", paramLabel = "<duration>", defaultValue = "10s", converter = AdminOptions.DurationConverter.class,
                description = "deadline of the call [default 10s]")
        Duration timeout;
    }

    /** One agent call: connects, calls, prints, and turns a failure into one line and an exit code. */
    abstract static class AgentCall implements Callable<Integer> {
        @CommandLine.Mixin
        AgentOptions options;

        @Spec
        CommandLine.Model.CommandSpec spec;

        abstract int call(LicenseBrokerGrpc.LicenseBrokerBlockingStub broker, Output out);

        /** The RPC the command makes, for error messages: {@code acquire} makes AcquireSession. */
        String rpc() {
            return spec.name().substring(0, 1).toUpperCase(Locale.ROOT) + spec.name().substring(1) + "Session";
        }

        @Override
        public final Integer call() {
            if (options.apiKey == null || options.apiKey.isBlank()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no API key: pass --api-key or set " + API_KEY_ENV);
            }
            ManagedChannel channel = channel(spec.commandLine());
            try {
                LicenseBrokerGrpc.LicenseBrokerBlockingStub broker = LicenseBrokerGrpc.newBlockingStub(channel)
                        .withCallCredentials(bearer(options.apiKey))
                        .withDeadlineAfter(options.timeout.toMillis(), TimeUnit.MILLISECONDS);
                return call(broker, new Output(spec.commandLine().getOut(), options.output));
            } catch (StatusRuntimeException e) {
                LicenseBrokerException failure = LicenseBrokerException.of(rpc(), e);
                spec.commandLine().getErr().println("error: " + AdminCommand.describe(failure, options.target));
                return failure.isUnreachable() ? ExitCode.UNREACHABLE : ExitCode.FAILED;
            } finally {
                channel.shutdownNow();
            }
        }

        private ManagedChannel channel(CommandLine commandLine) {
            ChannelCredentials credentials = InsecureChannelCredentials.create();
            try {
                if (options.trustCert != null) {
                    credentials = TlsChannelCredentials.newBuilder().trustManager(options.trustCert.toFile()).build();
                } else if (options.tls) {
                    credentials = TlsChannelCredentials.create();
                }
                return Grpc.newChannelBuilder(options.target, credentials).build();
            } catch (IOException | IllegalArgumentException e) {
                throw new CommandLine.ParameterException(commandLine, "cannot connect to " + options.target + ": " + OneLine.of(e), e);
            }
        }
    }

    @Command(name = "acquire", mixinStandardHelpOptions = true, description = "Takes a license for a machine; prints the session id alone (pool and lease on stderr).")
    static final class Acquire extends AgentCall {
        @Option(names = "--machine", required = true, paramLabel = "<machine-id>")
        String machine;

        @Option(names = "--request-id", paramLabel = "<id>", description = "a retried acquire with the same id returns the same session")
        String requestId = "";

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Override
        int call(LicenseBrokerGrpc.LicenseBrokerBlockingStub broker, Output out) {
            AcquireSessionResponse r = broker.acquireSession(AcquireSessionRequest.newBuilder()
                    .setMachineId(machine).setRequestId(requestId).setProduct(product).build());
            // The id alone on stdout, as api-keys create prints its key, so SESSION=$(... agent acquire ...) works;
            // what a person wants to see goes to stderr.
            out.print(r, w -> w.println(r.getSessionId()));
            if (options.output == AdminOptions.Format.TABLE) {
                spec.commandLine().getErr().println("pool " + r.getPoolId() + (r.getFallback() ? " (fallback to the account pool)" : "")
                        + ", lease until " + Output.time(true, r.getLeaseExpiresAt()) + ", renew every " + r.getRenewInterval().getSeconds() + "s");
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true,
            description = "Activates the user's seat of a node-locked or floating product on a machine; prints the activation id "
                    + "alone (what it is on stderr). A floating activation is a lease: renew and release it by that id.")
    static final class Activate extends AgentCall {
        @Option(names = "--machine", required = true, paramLabel = "<machine-id>")
        String machine;

        @Option(names = "--product", required = true, paramLabel = "<product>", description = "a node-locked or floating product")
        String product;

        @Option(names = "--request-id", paramLabel = "<id>", description = "an idempotency key (activating again on the same machine answers the same activation anyway)")
        String requestId = "";

        @Option(names = "--take-over", description = "floating: end the seat's activation on another machine and take its place")
        boolean takeOver;

        @Override
        String rpc() {
            return "ActivateLicense";
        }

        @Override
        int call(LicenseBrokerGrpc.LicenseBrokerBlockingStub broker, Output out) {
            Activation a = broker.activateLicense(ActivateLicenseRequest.newBuilder().setProduct(product).setMachineId(machine)
                    .setRequestId(requestId).setTakeOver(takeOver).build());
            out.print(a, w -> w.println(a.getActivationId()));
            if (options.output == AdminOptions.Format.TABLE) {
                spec.commandLine().getErr().println(a.hasLeaseExpiresAt()
                        ? "floating, pool " + a.getPoolId() + ", lease until " + Output.time(true, a.getLeaseExpiresAt())
                                + ", renew every " + a.getRenewInterval().getSeconds() + "s (agent renew / agent release)"
                        : "node-locked to machine " + a.getMachineId() + ", pool " + a.getPoolId()
                                + " (until an admin deactivates the machine)");
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "renew", mixinStandardHelpOptions = true, description = "Extends a session's lease (or a floating activation's).")
    static final class Renew extends AgentCall {
        @Parameters(paramLabel = "<session-id>")
        String session;

        @Override
        int call(LicenseBrokerGrpc.LicenseBrokerBlockingStub broker, Output out) {
            RenewSessionResponse r = broker.renewSession(RenewSessionRequest.newBuilder().setSessionId(session).build());
            out.print(r, w -> Output.fields(w, List.of(Output.field("Pool", r.getPoolId()),
                    Output.field("Lease until", Output.time(true, r.getLeaseExpiresAt())))));
            return ExitCode.OK;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true,
            description = "Gives a session's license back (or frees a floating activation's seat for another machine).")
    static final class Release extends AgentCall {
        @Parameters(paramLabel = "<session-id>")
        String session;

        @Override
        int call(LicenseBrokerGrpc.LicenseBrokerBlockingStub broker, Output out) {
            ReleaseSessionResponse r = broker.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(session).build());
            out.print(r, w -> w.println(r.getReleased() ? "released " + session : "session " + session + " was already released"));
            return ExitCode.OK;
        }
    }

    private static CallCredentials bearer(String key) {
        Metadata.Key<String> authorization = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                Metadata headers = new Metadata();
                headers.put(authorization, "Bearer " + key);
                applier.apply(headers);
            }
        };
    }
}
