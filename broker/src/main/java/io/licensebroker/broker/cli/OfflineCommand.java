package io.licensebroker.broker.cli;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.licensebroker.broker.store.DurableFiles;
import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

@Command(name = "offline", mixinStandardHelpOptions = true, description = "Issue offline licenses to .lic files and verify them.",
        subcommands = {OfflineCommand.Issue.class, OfflineCommand.Verify.class})
final class OfflineCommand extends CommandGroup {
    private static final String DEFAULT_PRODUCT = "KRE";

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = "Binds one license to a machine until its expiry (at most 60 days; it cannot be revoked) and writes "
                    + "the signed file <PRODUCT>_<machine>.lic into the directory. On a node-locked product, --user names the "
                    + "licensed user whose seat it binds (that seat can then not be removed or transferred before the expiry).")
    static final class Issue extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--machine", required = true, paramLabel = "<machine-id>")
        String machine;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Option(names = "--expires-at", paramLabel = "<when>", converter = Converters.Expiry.class,
                description = "instant, date or duration from now (30d); default: 60 days or the subscription's end, whichever is first")
        Instant expiresAt;

        @Option(names = "--user", paramLabel = "<user-id>", description = "node-locked products: the licensed user whose seat the file binds")
        String user = "";

        @Option(names = "--dir", paramLabel = "<directory>", description = "where to write the file (created if missing; default: the current directory)")
        Path dir = Path.of(".");

        @Option(names = "--force", description = "replace an existing file of the same name")
        boolean force;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            // Everything that can go wrong locally is checked before the broker binds a license that
            // can never be taken back.
            String expected = (product.isEmpty() ? DEFAULT_PRODUCT : product) + "_" + machine + ".lic";
            if (!isPlainFileName(expected)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "machine id '" + machine + "' cannot be part of a file name; no license was issued");
            }
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new CommandFailure("cannot create directory " + dir + ": " + e.getMessage() + "; no license was issued", e);
            }
            if (!Files.isWritable(dir)) {
                throw new CommandFailure("cannot write to " + dir + "; no license was issued");
            }
            if (!force && Files.exists(dir.resolve(expected))) {
                throw new CommandFailure(dir.resolve(expected) + " exists (use --force to replace it); no license was issued");
            }

            IssueOfflineLicenseResponse issued = admin.issueOfflineLicense(account, product, machine, user, expiresAt);
            String name = isPlainFileName(issued.getFileName()) ? issued.getFileName() : expected;
            Path file = dir.resolve(name);
            write(file, issued.getLicenseFile().toByteArray());
            String expires = Output.time(issued.hasExpiresAt(), issued.getExpiresAt());
            Struct written = Struct.newBuilder()
                    .putFields("file", Value.newBuilder().setStringValue(file.toString()).build())
                    .putFields("file_name", Value.newBuilder().setStringValue(name).build())
                    .putFields("expires_at", Value.newBuilder().setStringValue(expires).build())
                    .build();
            out.print(written, w -> w.println("wrote " + file + " (valid until " + expires + ")"));
            return ExitCode.OK;
        }

        /**
         * Written durably to a temporary file and moved into place, so a reader never sees half a license.
         * The license already exists at the broker now, so a failure says where things stand.
         */
        private void write(Path file, byte[] content) {
            try {
                DurableFiles.write(file, content, false);
            } catch (IOException e) {
                throw new CommandFailure("the license was issued but could not be written to " + file + ": " + e.getMessage(), e);
            }
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Checks a license file's signature with the broker and shows what it grants; exit code 1 when it is not valid.")
    static final class Verify extends AdminCommand {
        @Parameters(paramLabel = "<file>", description = "a .lic file")
        Path file;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            byte[] content;
            try {
                content = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new CommandFailure("cannot read " + file + ": " + e.getMessage(), e);
            }
            VerifyOfflineLicenseResponse r = admin.verifyOfflineLicense(content);
            out.print(r, w -> Output.fields(w, List.of(
                    Output.field("Valid", Output.yesNo(r.getValid())),
                    Output.field("Account", r.getAccountId()),
                    Output.field("Product", r.getProduct()),
                    Output.field("Machine", r.getMachineId()),
                    Output.field("Expires at", Output.time(r.hasExpiresAt(), r.getExpiresAt())))));
            return r.getValid() ? ExitCode.OK : ExitCode.FAILED;
        }
    }

    /**
     * A name that stays inside the directory: no separators, not "." or "..", no control
     * characters, and a valid file name on this platform. Machine ids are any printable ASCII, so
     * the broker's file name is checked too, never trusted as a path.
     */
    static boolean isPlainFileName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.length() > 255
                || name.chars().anyMatch(c -> c == '/' || c == '\\' || c < ' ' || c == 0x7f)) {
            return false;
        }
        try {
            Path p = Path.of(name);
            return p.getParent() == null && p.getFileName() != null && p.getFileName().toString().equals(name);
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
