package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.core.Subscription;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * Seats on Redis (CONTRACT.md section 5), every rule the core's. Seats, node-locked bindings and
 * seat-bound offline licenses are part of the account's configuration: granting, removing and
 * transferring a seat and binding a node-locked one are changes the core decides and
 * {@link AccountConfigs#change} applies at the version it read, so they are exact under any
 * concurrency. A floating activation is a lease of the session kind (renewed, released, reaped
 * like a session) that counts in no pool, since its seat does: the core decides which seat it
 * draws on from the cached configuration ({@link AccountLedger#seatToActivate}), and activate.lua,
 * at that version, keeps one live lease per seat and counts machines.
 */
final class RedisSeats {
    /** What a change answers when it finds the product floating after all: never shown, the lease path answers. */
    private static final Decision<Activation> FLOATING_AFTER_ALL = Decision.denied(Reason.LICENSE_MODEL_MISMATCH, "floating");

    private final ScriptRunner scripts;
    private final AccountConfigs configs;
    private final LeaseReaper reaper;

    RedisSeats(ScriptRunner scripts, AccountConfigs configs, LeaseReaper reaper) {
        this.scripts = scripts;
        this.configs = configs;
        this.reaper = reaper;
    }

    CompletableFuture<Decision<LicensedUser>> grant(String accountId, String product, String userId, String poolId, Instant now) {
        return configs.change(accountId, product, List.of(), now,
                (ledger, effects) -> ledger.grantLicense(product, userId, poolId, now)).thenApply(AccountConfigs.Outcome::decision);
    }

    /** A floating seat's lease ends in the same step (AccountConfigs adds it for the removed seat). */
    CompletableFuture<Decision<Boolean>> remove(String accountId, String product, String userId, Instant now) {
        return configs.change(accountId, product, List.of(), now,
                (ledger, effects) -> ledger.removeLicense(product, userId, now)).thenApply(AccountConfigs.Outcome::decision);
    }

    CompletableFuture<Decision<LicensedUser>> transfer(String accountId, String product, String fromUserId, String toUserId,
                                                       String poolId, Instant now) {
        return configs.change(accountId, product, List.of(), now,
                (ledger, effects) -> ledger.transferLicense(product, fromUserId, toUserId, poolId, now))
                .thenApply(AccountConfigs.Outcome::decision);
    }

    CompletableFuture<Decision<Page<LicensedUser>>> licensedUsers(String accountId, SeatQuery query, Instant now) {
        return configs.observe(accountId, null, List.of(), false).thenApply(observed -> observed == null
                ? Refusals.<Page<LicensedUser>>accountNotFound(accountId)
                // A ledger of its own: the listing prunes expired offline licenses, and the cached replica is only ever read.
                : Decision.granted(AccountConfigs.counted(accountId, observed, null, Journal.NONE).licensedUsers(query, now)));
    }

    CompletableFuture<Decision<Optional<Seat>>> seat(String accountId, String product, String userId) {
        return configs.observe(accountId, null, List.of(), false).thenApply(observed -> observed == null
                ? Refusals.<Optional<Seat>>accountNotFound(accountId)
                : Decision.granted(Optional.ofNullable(observed.config().replica().seat(product, userId))));
    }

    CompletableFuture<Decision<Activation>> activate(String accountId, ActivationRequest r) {
        return activate(accountId, r, 1);
    }

    /** By the product's model in the cached configuration; a script or change that finds another one comes back here. */
    private CompletableFuture<Decision<Activation>> activate(String accountId, ActivationRequest r, int attempt) {
        if (attempt > AccountConfigs.MAX_ATTEMPTS) {
            return CompletableFuture.failedFuture(new StoreUnavailableException("the configuration of account " + accountId
                    + " changed during each of " + (attempt - 1) + " attempts of one activation", null));
        }
        AccountConfigs.Config config = configs.cached(accountId);
        if (config != null && config.replica().model(r.product()) != LicenseModel.FLOATING) {
            return bind(accountId, r, attempt);
        }
        return lease(accountId, r, config, attempt);
    }

    /** Node-locked (or refused): the binding is configuration, so the core decides it as a change. */
    private CompletableFuture<Decision<Activation>> bind(String accountId, ActivationRequest r, int attempt) {
        AtomicBoolean floating = new AtomicBoolean();
        return configs.change(accountId, r.product(), List.of(r.machineId()), r.now(), (ledger, effects) -> {
            floating.set(ledger.model(r.product()) == LicenseModel.FLOATING);
            return floating.get() ? FLOATING_AFTER_ALL : ledger.activate(r);
        }).thenCompose(outcome -> floating.get() ? activate(accountId, r, attempt + 1) : completedFuture(outcome.decision()));
    }

    /** Floating: the core picks the seat from {@code config} (null: none cached, the script answers stale). */
    private CompletableFuture<Decision<Activation>> lease(String accountId, ActivationRequest r, AccountConfigs.Config config,
                                                         int attempt) {
        AccountLedger replica = config == null ? null : config.replica();
        Decision<Seat> seat = replica == null ? null : replica.seatToActivate(r.product(), r.userId(), r.now());
        Subscription sub = replica == null ? null : replica.subscription(r.product());
        ObjectNode req = ScriptRunner.request().put("version", config == null ? "" : config.version())
                .put("sid", r.newActivationId()).put("product", r.product()).put("user", r.userId()).put("machine", r.machineId())
                .put("request", AccountLedger.leaseKey(r.product(), r.machineId()))
                .put("pool", seat != null && seat.isGranted() ? seat.value().poolId() : "")
                .put("lease", Long.toString(r.leaseExpiresAt().toEpochMilli()))
                .put("lease_ms", Long.toString(r.leaseExpiresAt().toEpochMilli() - r.now().toEpochMilli()))
                .put("quota", Long.toString(sub == null ? 0 : sub.machineQuota()))
                .put("take_over", r.takeOver());
        if (sub != null && sub.model().isSeat()) {
            // The core checks the expiry right after the model; the script checks it at its own now.
            req.put("expires", Long.toString(sub.expiresAt().toEpochMilli()));
        }
        if (seat != null && !seat.isGranted()) {
            req.put("refused", true);
        }
        return scripts.run(accountId, r.now(), Script.ACTIVATE, req).thenCompose(reply -> switch (ScriptRunner.outcome(reply)) {
            case "stale" -> {
                configs.learn(accountId, reply);
                yield activate(accountId, r, attempt + 1);
            }
            case "ok" -> {
                Activation a = activation(accountId, r.product(), reply.path("session"));
                yield "1".equals(reply.path("reindex").asText())
                        ? reaper.index(accountId, a.leaseExpiresAt().toEpochMilli()).thenApply(x -> Decision.granted(a))
                        : completedFuture(Decision.granted(a));
            }
            case "existing" -> completedFuture(Decision.granted(activation(accountId, r.product(), reply.path("session"))));
            case "expired" -> completedFuture(Refusals.subscriptionExpired(r.product(), sub.expiresAt()));
            case "refused" -> completedFuture(((Decision.Denied<Seat>) seat).cast());
            case "recovering" -> completedFuture(RedisSessions.recovering(reply));
            case "seat_in_use" -> completedFuture(Refusals.seatInUse(r.userId(), r.product(), reply.path("machine").asText(), true));
            case "machine_quota" -> completedFuture(Refusals.machineQuotaOnAcquire(sub.machineQuota()));
            default -> completedFuture(RedisSessions.gone(accountId, r.newActivationId(), reply));
        });
    }

    /** Node-locked bindings from the configuration and live floating leases from Redis, read at one version. */
    CompletableFuture<Decision<Page<Activation>>> activations(String accountId, SeatQuery query, Instant now) {
        return activations(accountId, query, now, 1);
    }

    private CompletableFuture<Decision<Page<Activation>>> activations(String accountId, SeatQuery q, Instant now, int attempt) {
        AccountConfigs.Config known = configs.cached(accountId);
        ObjectNode req = ScriptRunner.request().put("version", known == null ? "" : known.version()).put("product", q.product())
                .put("user", q.userId() == null ? "" : q.userId());
        ArrayNode pools = req.putArray("pools");
        if (known != null) {
            known.replica().poolIds().forEach(pools::add);
        }
        return scripts.run(accountId, now, Script.ACTIVATIONS, req).thenCompose(reply -> {
            switch (ScriptRunner.outcome(reply)) {
                case "ok" -> {
                    List<Activation> leases = new ArrayList<>();
                    reply.path("activations").forEach(a -> leases.add(activation(accountId, q.product(), a)));
                    return completedFuture(Decision.granted(known.replica().activations(q, leases)));
                }
                case "stale" -> {
                    configs.learn(accountId, reply);
                    if (attempt >= AccountConfigs.MAX_ATTEMPTS) {
                        throw new StoreUnavailableException("the configuration of account " + accountId
                                + " changed during each of " + attempt + " attempts of one listing", null);
                    }
                    return activations(accountId, q, now, attempt + 1);
                }
                default -> {
                    return completedFuture(Refusals.<Page<Activation>>accountNotFound(accountId));
                }
            }
        });
    }

    /** A floating activation as a script answers it: a session's fields (activations.lua has no product, it asked for one). */
    private static Activation activation(String accountId, String product, JsonNode s) {
        return new Activation(s.path("id").asText(), accountId, product, s.path("user").asText(), s.path("machine").asText(),
                s.path("pool").asText(), Instant.ofEpochMilli(s.path("started").asLong()),
                Instant.ofEpochMilli(s.path("lease").asLong()));
    }
}
