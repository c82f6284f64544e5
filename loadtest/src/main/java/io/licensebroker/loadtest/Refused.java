package io.licensebroker.loadtest;

/** The target refused for lack of licenses: expected under a quota, counted apart from errors. */
final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused(String reason) {
        super(reason, null, false, false);
    }
}
