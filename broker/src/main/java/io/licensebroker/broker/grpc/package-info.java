/**
 * The gRPC edge of the broker: the contract's two services ({@code licensebroker.v1.LicenseBroker}
 * for agents, {@code licensebroker.v1.LicenseAdmin} for admin tools), bearer-token authentication,
 * tenancy checks, request validation and the mapping of refusals to the rich error model.
 *
 * <p>{@link io.licensebroker.broker.grpc.BrokerServer} is the main public type: it starts the
 * Netty server (with health and reflection) or hands out the intercepted service definitions for
 * another server builder; {@link io.licensebroker.broker.grpc.AcquireObserver} is how monitoring
 * hears acquire decisions without this package depending on a metrics library. Everything else
 * is package-private:
 * <ul>
 *   <li>{@code AuthInterceptor} parses {@code authorization: Bearer <token>} into the call's Context;</li>
 *   <li>{@code Gate} resolves the token asynchronously, checks role and account, runs the handler
 *       body and completes the call from whichever thread completes the core's stage, writing the
 *       {@code Audit} line of an admin change first;</li>
 *   <li>{@code Validation} holds every syntax rule; {@code Errors} every status mapping;
 *       {@code Protos} every record-to-message conversion.</li>
 * </ul>
 * No handler ever blocks a gRPC thread.
 */
package io.licensebroker.broker.grpc;
