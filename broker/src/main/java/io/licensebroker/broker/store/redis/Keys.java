package io.licensebroker.broker.store.redis;

/**
 * Where things live in Redis. Every key of one account starts with {@code lb:{<account>}:}: the
 * hash tag puts them all in one cluster slot, so each script touches one slot, and accounts spread
 * over the cluster's masters by their id. The few global keys share the tag {@code {@g}} (an
 * account id cannot contain '@'), so a global script may touch several of them at once.
 *
 * <p>Per account (see the scripts under {@code resources/redis}): {@code a} the account hash (name
 * {@code n}, configuration version {@code cv} and configuration {@code cfg} — the core's events,
 * see {@link AccountConfigs} —, subscription ends {@code x:<product>} for renew's time guard,
 * state-loss counters, reap index hint, ticket key); {@code ps:<product>:<pool>} live sessions per
 * pool (its in_use); {@code mc:<product>} registered machines; {@code mx:<product>:<machine>} live
 * sessions per machine; {@code prods} the products with configuration; {@code s:<session>} one
 * session; {@code lz} sessions by lease end; {@code sl} sessions by id; {@code rq} idempotency
 * keys; {@code t:<session>} tombstones; {@code op:<id>} kept replies of changes; {@code pa:<product>:<pool>}
 * live floating activations per pool (sessions on seats: they count in no pool, their seats do);
 * {@code sa} seat (product, user) -> its live floating activation; the usage history
 * ({@link RedisHistory}, history_lib.lua): {@code hc:<product>:<pool>} each step's bucket in
 * progress, {@code hb<step>:<product>:<pool>:<group>} closed buckets, {@code hw<step>:<start>}
 * who was denied; they expire by themselves.
 */
final class Keys {
    private static final String GLOBAL = "lb:{@g}:";

    /** Account id -> name: the account list. */
    static final String ACCOUNTS = GLOBAL + "accounts";
    /** Organization id -> account id. */
    static final String ORGANIZATIONS = GLOBAL + "orgs";
    /** The last organization number handed out (INCR). */
    static final String ORGANIZATION_SEQUENCE = GLOBAL + "orgseq";
    /** Credential lookup id -> encoded credential. */
    static final String CREDENTIALS = GLOBAL + "cred";
    /**
     * The credentials epoch: a random value replaced by every change of a credential (add, revoke). Nodes cache a credential
     * with the epoch they read it under and use it only while the epoch is unchanged; a missing key
     * (Redis lost its data) matches no cached entry.
     */
    static final String CREDENTIAL_EPOCH = GLOBAL + "credepoch";
    /** What the start-up permission check writes and deletes again (global slot). */
    static final String PROBE = GLOBAL + "probe";
    /** The same in another slot of the key prefix ('@' is never in an account id, so no account's). */
    static final String PROBE_OTHER_SLOT = "lb:{@probe}:probe";
    /** Set once any SUPER_ADMIN credential is stored. */
    static final String SUPER_ADMIN = GLOBAL + "super";
    /** Reap index: account id -> a lower bound of its earliest lease end (epoch ms). */
    static final String REAP_INDEX = GLOBAL + "due";

    private Keys() {
    }

    /** The account's main hash; the scripts derive every other key of the account from it. */
    static String account(String accountId) {
        return "lb:{" + accountId + "}:a";
    }

    /** The products the account holds a subscription or dedicated licenses for. */
    static String products(String accountId) {
        return "lb:{" + accountId + "}:prods";
    }

    /** A value every node shares, set once (e.g. the offline signing key). */
    static String shared(String name) {
        return GLOBAL + "shared:" + name;
    }
}
