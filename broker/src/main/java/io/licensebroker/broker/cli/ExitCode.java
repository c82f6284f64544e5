package io.licensebroker.broker.cli;

/** The process exit codes of the admin commands, for scripts. */
final class ExitCode {
    static final int OK = 0;
    /** The broker refused the call, or the command failed (a file could not be written, a license is invalid). */
    static final int FAILED = 1;
    /** The command line was wrong (picocli's own code for parse errors). */
    static final int USAGE = 2;
    /** No broker could be reached at the target, or it did not answer in time. */
    static final int UNREACHABLE = 3;

    private ExitCode() {
    }
}
