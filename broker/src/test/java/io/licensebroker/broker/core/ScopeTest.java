package io.licensebroker.broker.core;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subtree check of organization admins. The tree of account "acme":
 * A (A1 (A11, A12), A2), B (B1); creation order is not parent order for A12 and A2.
 */
final class ScopeTest {
    private static final List<Organization> ORGS = List.of(
            new Organization("OG-A", "acme", null, "A"),
            new Organization("OG-B", "acme", null, "B"),
            new Organization("OG-A1", "acme", "OG-A", "A1"),
            new Organization("OG-A11", "acme", "OG-A1", "A11"),
            new Organization("OG-B1", "acme", "OG-B", "B1"),
            new Organization("OG-A2", "acme", "OG-A", "A2"),
            new Organization("OG-A12", "acme", "OG-A1", "A12"));

    @Test
    void aSubtreeIsTheOrganizationAndEverythingBelowItParentsFirst() {
        assertEquals(List.of("OG-A", "OG-A1", "OG-A2", "OG-A11", "OG-A12"), List.copyOf(Scope.subtreeIds("OG-A", ORGS)));
        assertEquals(Set.of("OG-A1", "OG-A11", "OG-A12"), Scope.subtreeIds("OG-A1", ORGS));
        assertEquals(Set.of("OG-A11"), Scope.subtreeIds("OG-A11", ORGS));
        assertEquals(Set.of("OG-B", "OG-B1"), Scope.subtreeIds("OG-B", ORGS));
    }

    @Test
    void anUnknownRootHoldsNothing() {
        assertEquals(Set.of(), Scope.subtreeIds("OG-X", ORGS));
        Scope scope = Scope.subtree("acme", "OG-X", ORGS);
        assertFalse(scope.contains("OG-X"));
        assertFalse(scope.containsBelowRoot("OG-A"));
    }

    @Test
    void aCycleInAMalformedListEnds() {
        List<Organization> cycle = List.of(new Organization("OG-1", "acme", "OG-2", "1"), new Organization("OG-2", "acme", "OG-1", "2"));
        assertEquals(Set.of("OG-1", "OG-2"), Scope.subtreeIds("OG-1", cycle));
    }

    @Test
    void aSubtreeHoldsItsOrganizationsOnlyNeitherTheAccountPoolNorNoOrganization() {
        Scope a1 = Scope.subtree("acme", "OG-A1", ORGS);

        assertTrue(a1.contains("OG-A1"));
        assertTrue(a1.contains("OG-A12"));
        assertFalse(a1.contains("OG-A"), "the parent");
        assertFalse(a1.contains("OG-A2"), "a sibling");
        assertFalse(a1.contains("OG-B1"), "another subtree");
        assertFalse(a1.contains("acme"), "the account pool");
        assertFalse(a1.contains(null), "no organization");
        assertFalse(a1.isWholeAccount());
        assertEquals("OG-A1", a1.root());
    }

    @Test
    void strictlyBelowTheRootLeavesTheRootOut() {
        Scope a1 = Scope.subtree("acme", "OG-A1", ORGS);

        assertFalse(a1.containsBelowRoot("OG-A1"));
        assertTrue(a1.containsBelowRoot("OG-A11"));
        assertFalse(a1.containsBelowRoot("OG-A"));
        assertFalse(a1.containsBelowRoot(null));
    }

    @Test
    void theWholeAccountHoldsEverything() {
        Scope all = Scope.wholeAccount("acme");

        assertTrue(all.isWholeAccount());
        for (String id : new String[] {"OG-A", "OG-B1", "acme", null}) {
            assertTrue(all.contains(id), String.valueOf(id));
            assertTrue(all.containsBelowRoot(id), String.valueOf(id));
        }
    }

    @Test
    void filterKeepsTheItemsInScopeInTheirOrder() {
        Scope a = Scope.subtree("acme", "OG-A", ORGS);

        assertEquals(List.of("OG-A", "OG-A1", "OG-A11", "OG-A2", "OG-A12"),
                a.filter(ORGS, Organization::id).stream().map(Organization::id).toList());
        assertEquals(ORGS, Scope.wholeAccount("acme").filter(ORGS, Organization::id));
        assertTrue(a.containsAll(List.of("OG-A2", "OG-A11")));
        assertFalse(a.containsAll(List.of("OG-A2", "OG-B")));
    }
}
