/**
 * The License Broker client SDK.
 *
 * <p>Runtimes use {@link io.licensebroker.client.LicenseBrokerClient} to acquire
 * {@link io.licensebroker.client.LicenseSession}s, which renew themselves and report a lost lease
 * through a {@link io.licensebroker.client.LeaseListener}, and to activate seats of seat products
 * ({@link io.licensebroker.client.Activation}: a floating one is held by the same lease machinery,
 * a node-locked one is a binding to the machine); a refused license is a
 * {@link io.licensebroker.client.LicenseDeniedException}. Admin tools use
 * {@link io.licensebroker.client.LicenseAdminClient}. Everything else in the package is
 * implementation.
 */
package io.licensebroker.client;
