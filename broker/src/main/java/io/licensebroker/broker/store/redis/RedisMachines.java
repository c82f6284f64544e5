package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Registered machines on Redis: the listing (registrations and live sessions counted by
 * observe.lua, offline licenses from the configuration) and deactivation, a change the core
 * decides (it unbinds node-locked seats) with apply.lua ending the machine's sessions.
 */
final class RedisMachines {
    private final AccountConfigs configs;

    RedisMachines(AccountConfigs configs) {
        this.configs = configs;
    }

    CompletableFuture<Decision<List<Machine>>> machines(String accountId, String product, Instant now) {
        return configs.observe(accountId, product, List.of(), true).thenApply(observed -> {
            if (observed == null) {
                return Refusals.<List<Machine>>accountNotFound(accountId);
            }
            AccountLedger ledger = observed.config().replica();
            List<JsonNode> registered = new ArrayList<>();
            observed.machineList().forEach(registered::add);
            registered.sort(Comparator.comparingLong(m -> m.path("seq").asLong()));
            List<Machine> out = new ArrayList<>(registered.size());
            for (JsonNode m : registered) {
                String id = m.path("id").asText();
                OfflineLicense offline = ledger.liveOfflineLicense(product, id, now);
                out.add(new Machine(id, product, Instant.ofEpochMilli(m.path("at").asLong()), m.path("live").asLong(),
                        offline == null ? null : offline.expiresAt()));
            }
            return Decision.granted(out);
        });
    }

    /** True when the registration was removed or a session ended (what Redis did). */
    CompletableFuture<Decision<Boolean>> deactivate(String accountId, String product, String machineId, Instant now) {
        return configs.change(accountId, product, List.of(machineId), now, (ledger, effects) -> {
            if (!ledger.isRegistered(product, machineId)) {
                return Decision.granted(false);
            }
            // A live offline license binds the machine: its sessions end, its registration stays.
            effects.endMachine(product, machineId, Reason.SESSION_TERMINATED.name(), !ledger.holdsOfflineLicense(product, machineId, now));
            // The core unbinds the node-locked seats bound to the machine (configuration).
            return Decision.granted(ledger.deactivateMachine(product, machineId, now));
        }).thenApply(outcome -> outcome.applied() == null ? outcome.decision()
                : Decision.granted("1".equals(outcome.applied().path("unregistered").asText())
                        || outcome.applied().path("ended").asLong() > 0));
    }
}
