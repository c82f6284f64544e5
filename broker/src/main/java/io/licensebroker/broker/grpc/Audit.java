package io.licensebroker.broker.grpc;

import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.core.Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import java.util.ArrayList;
import java.util.List;

/**
 * The audit record of one admin change: who (the caller's role and account), what (the RPC and
 * the ids it targets), before and after where the service answers them cheaply, and the outcome.
 * The handler fills it in as it learns things; {@link Gate} writes it as one log line on the
 * {@value #LOGGER} logger when the call completes, refused or not, before the caller hears the
 * answer.
 *
 * <p>Secrets never enter a record: callers add ids, counts, names and policies, never a token, an
 * API key or a license file, and the caller is described by role and account, not by credential.
 */
final class Audit {
    static final String LOGGER = "io.licensebroker.broker.audit";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private final String rpc;
    /** Key and value pairs in the order added; a call's stages run one after another, the lock only orders memory. */
    private final List<String[]> fields = new ArrayList<>(8);
    private Principal who;

    private Audit(String rpc) {
        this.rpc = rpc;
    }

    /** A record of a call to the admin RPC named as in the contract ({@code SetDedicatedLicenses}). */
    static Audit of(String rpc) {
        return new Audit(rpc);
    }

    /** What the change is about: an id or a name (never a secret). */
    synchronized Audit target(String key, Object value) {
        if (value != null) {
            fields.add(new String[]{key, String.valueOf(value)});
        }
        return this;
    }

    /** A value before and after the change, written {@code before -> after} ({@code none} when absent). */
    synchronized Audit change(String key, Object before, Object after) {
        fields.add(new String[]{key, (before == null ? "none" : before) + " -> " + (after == null ? "none" : after)});
        return this;
    }

    synchronized void caller(Principal principal) {
        this.who = principal;
    }

    /** Writes the record; {@code refusal} is null when the change was made. */
    synchronized void write(StatusRuntimeException refusal) {
        LoggingEventBuilder line = LOG.atInfo().setMessage("admin change").addKeyValue("rpc", rpc);
        if (who == null) {
            line.addKeyValue("principal_role", "unauthenticated");
        } else {
            line.addKeyValue("principal_role", who.role().name());
            if (who.accountId() != null) {
                line.addKeyValue("principal_account", who.accountId());
            }
            if (who.orgId() != null) {
                line.addKeyValue("principal_org", who.orgId());
            }
        }
        for (String[] field : fields) {
            line.addKeyValue(field[0], field[1]);
        }
        if (refusal == null) {
            line.addKeyValue("outcome", "OK");
        } else {
            line.addKeyValue("outcome", refusal.getStatus().getCode().name());
            String reason = Errors.reason(refusal);
            if (reason != null) {
                line.addKeyValue("reason", reason);
            }
        }
        line.log();
    }
}
