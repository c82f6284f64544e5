package io.licensebroker.broker.store.redis;

/**
 * Where things live in Redis. Every key of one account starts with {@code lb:{<account>}:}: the
 * hash tag puts them all in one cluster slot, so each script touches one slot, and accounts spread
 * over the cluster's masters by their id. The few global keys share the tag {@code {@g}} (an
 * account id cannot contain '@'), so a global script may touch several of them at once.
 *
 * <p>Per account (see the scripts under {@code resources/redis} for their encodings): {@code a}
 * the account hash (name, policy, configuration version, counters, reap index hint); {@code o},
 * {@code ol}, {@code ch:<parent>} organizations, their creation order and children; {@code u}
 * users; {@code sub:<product>} the subscription; {@code pd:<product>} dedicated and
 * {@code pa:<product>} allocated licenses; {@code room:<product>} organizations with room;
 * {@code ps:<product>:<pool>} live sessions per pool; {@code mc:<product>} registered machines;
 * {@code mx:<product>:<machine>} live sessions per machine; {@code off:<product>} and
 * {@code offx:<product>} offline licenses; {@code prods} the products with a subscription or dedicated licenses; {@code s:<session>} one session; {@code lz} sessions by
 * lease end; {@code sl} sessions by id; {@code rq} idempotency keys; {@code t:<session>} tombstones.
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
