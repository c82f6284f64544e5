package io.licensebroker.broker.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * What part of one account an admin may act on: the whole account (SUPER_ADMIN, ACCOUNT_ADMIN), or
 * an organization and every organization below it (ORGANIZATION_ADMIN, CONTRACT.md section 6).
 * Pure: built from the account's organizations as read for one request, it answers membership only.
 * A subtree never holds the account pool, nor "no organization" (null): those are account-wide.
 */
public final class Scope {
    private final String accountId;
    /** Null for the whole account. */
    private final String root;
    /** The subtree, root included; empty for the whole account. */
    private final Set<String> orgIds;

    private Scope(String accountId, String root, Set<String> orgIds) {
        this.accountId = Objects.requireNonNull(accountId, "accountId");
        this.root = root;
        this.orgIds = Set.copyOf(orgIds);
    }

    public static Scope wholeAccount(String accountId) {
        return new Scope(accountId, null, Set.of());
    }

    /** The subtree of {@code rootOrgId} among {@code organizations} (those of {@code accountId}). */
    public static Scope subtree(String accountId, String rootOrgId, Collection<Organization> organizations) {
        return new Scope(accountId, Objects.requireNonNull(rootOrgId, "rootOrgId"), subtreeIds(rootOrgId, organizations));
    }

    /**
     * The ids of {@code rootOrgId} and of every organization below it, parents before children;
     * empty when {@code rootOrgId} is not among {@code organizations} (so a check fails closed).
     */
    public static Set<String> subtreeIds(String rootOrgId, Collection<Organization> organizations) {
        Map<String, List<String>> children = new HashMap<>();
        boolean known = false;
        for (Organization o : organizations) {
            known |= o.id().equals(rootOrgId);
            if (o.parentId() != null) {
                children.computeIfAbsent(o.parentId(), k -> new ArrayList<>()).add(o.id());
            }
        }
        Set<String> out = new LinkedHashSet<>();
        if (!known) {
            return out;
        }
        Deque<String> todo = new ArrayDeque<>();
        todo.add(rootOrgId);
        while (!todo.isEmpty()) {
            String id = todo.poll();
            // add() false: seen already; a malformed list with a cycle ends here too.
            if (out.add(id)) {
                todo.addAll(children.getOrDefault(id, List.of()));
            }
        }
        return out;
    }

    public String accountId() {
        return accountId;
    }

    public boolean isWholeAccount() {
        return root == null;
    }

    /** The organization at the top of the subtree; null for the whole account. */
    public String root() {
        return root;
    }

    /**
     * Whether a pool or organization is in scope: {@code id} is an organization id, or the account id
     * for the account pool, or null for "no organization" (a user assigned nowhere). In a subtree,
     * only its organizations are.
     */
    public boolean contains(String id) {
        return isWholeAccount() || (id != null && orgIds.contains(id));
    }

    /** Whether {@code orgId} lies strictly below the root: an org admin's own organization is not. */
    public boolean containsBelowRoot(String orgId) {
        return isWholeAccount() || (contains(orgId) && !orgId.equals(root));
    }

    /** Whether every id is in scope. */
    public boolean containsAll(Collection<String> ids) {
        return ids.stream().allMatch(this::contains);
    }

    /** The items whose pool or organization ({@code idOf}) is in scope, in their order. */
    public <T> List<T> filter(Collection<T> items, Function<T, String> idOf) {
        return isWholeAccount() ? List.copyOf(items) : items.stream().filter(i -> contains(idOf.apply(i))).toList();
    }

    @Override
    public String toString() {
        return isWholeAccount() ? "account " + accountId : "subtree of " + root + " in account " + accountId;
    }
}
