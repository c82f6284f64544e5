package io.licensebroker.broker.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The organizations of one account: creation order (which "any other organization" follows),
 * each one's ordinal in it, and the children of every parent. Not thread-safe.
 */
final class OrgTree {
    private final String accountId;
    private final Map<String, Organization> orgs = new LinkedHashMap<>();
    private final Map<String, Integer> ordinals = new HashMap<>();
    /** Children by parent id; top-level organizations are keyed by the account id. */
    private final Map<String, List<String>> children = new HashMap<>();

    OrgTree(String accountId) {
        this.accountId = accountId;
    }

    void add(Organization org) {
        orgs.put(org.id(), org);
        ordinals.put(org.id(), ordinals.size());
        children.computeIfAbsent(parentKey(org), k -> new ArrayList<>()).add(org.id());
    }

    Organization get(String orgId) {
        return orgs.get(orgId);
    }

    boolean contains(String orgId) {
        return orgs.containsKey(orgId);
    }

    int size() {
        return orgs.size();
    }

    /** The organization's place in creation order (null for an unknown id). */
    Integer ordinal(String orgId) {
        return ordinals.get(orgId);
    }

    /** Ids in creation order. */
    Set<String> ids() {
        return orgs.keySet();
    }

    /** Creation order: parents always come before their children. */
    Collection<Organization> inCreationOrder() {
        return orgs.values();
    }

    List<String> children(String id) {
        return children.getOrDefault(id, List.of());
    }

    /** The pool an organization's licenses come from: its parent's, or the account pool. */
    String parentKey(Organization org) {
        return org.parentId() == null ? accountId : org.parentId();
    }

    static String parentName(Organization org) {
        return org.parentId() == null ? "the account pool" : "organization " + org.parentId();
    }

    /** The organization and every organization below it. */
    List<String> subtree(String orgId) {
        List<String> out = new ArrayList<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.push(orgId);
        while (!todo.isEmpty()) {
            String id = todo.pop();
            out.add(id);
            children(id).forEach(todo::push);
        }
        return out;
    }

    /** Parents before children, siblings in creation order. */
    void forEachPreorder(Consumer<Organization> visit) {
        Deque<String> todo = new ArrayDeque<>();
        List<String> top = children(accountId);
        for (int i = top.size() - 1; i >= 0; i--) {
            todo.push(top.get(i));
        }
        while (!todo.isEmpty()) {
            String id = todo.pop();
            visit.accept(orgs.get(id));
            List<String> kids = children(id);
            for (int i = kids.size() - 1; i >= 0; i--) {
                todo.push(kids.get(i));
            }
        }
    }
}
