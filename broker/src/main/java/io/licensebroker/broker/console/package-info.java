/**
 * The web console: the License Management page of the product documents, served by the broker on
 * its console port. Static files from the jar, and a generic HTTP/JSON bridge to the same
 * {@code LicenseAdmin} gRPC service the command line calls (through the server's in-process twin,
 * behind the same interceptors), so the console decides nothing itself.
 */
package io.licensebroker.broker.console;
