package io.licensebroker.broker.cli;

/** A command failed for a reason of its own (not a broker refusal); the message is for the operator. */
final class CommandFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CommandFailure(String message) {
        super(message);
    }

    CommandFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
