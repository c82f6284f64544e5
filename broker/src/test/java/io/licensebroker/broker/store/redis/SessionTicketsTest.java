package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Session;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionTicketsTest {
    private static final SessionTickets.AccountKey KEY =
            new SessionTickets.AccountKey("a key of the account, 32 bytes..".getBytes(StandardCharsets.US_ASCII));
    private static final String NAME = "AC-1.abcdefghijklmnopqrstuvwxyz";

    private static Session session(String machine) {
        return new Session(NAME, "AC-1", "KRE", "alice@example.com", machine, "OG-1", false, "", Instant.EPOCH, Instant.EPOCH);
    }

    @Test
    void anIdCarriesItsTicketAndStillNamesItsAccountAndSession() {
        String id = SessionTickets.id(KEY, session("host-1.example.com"));
        assertEquals(Optional.of("AC-1"), Ids.accountOfSession(id));
        assertEquals(NAME, Ids.sessionName(id));
        SessionTickets.Ticket ticket = SessionTickets.parse(id).orElseThrow();
        assertEquals(NAME, ticket.name());
        assertEquals("KRE", ticket.product());
        assertEquals("host-1.example.com", ticket.machineId(), "machine ids may contain dots");
        assertTrue(SessionTickets.verify(KEY, ticket, "alice@example.com"));
        assertTrue(id.length() <= 276, id);
    }

    @Test
    void anyChangedCharacterAnotherUserOrAnotherKeyFailsTheCheck() {
        String id = SessionTickets.id(KEY, session("m1"));
        for (int i = NAME.length() + 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c == '.') {
                continue;
            }
            String changed = id.substring(0, i) + (c == 'x' ? 'y' : 'x') + id.substring(i + 1);
            Optional<SessionTickets.Ticket> ticket = SessionTickets.parse(changed);
            assertTrue(ticket.isEmpty() || !SessionTickets.verify(KEY, ticket.get(), "alice@example.com"), changed);
        }
        SessionTickets.Ticket ticket = SessionTickets.parse(id).orElseThrow();
        assertFalse(SessionTickets.verify(KEY, ticket, "bob"));
        assertFalse(SessionTickets.verify(new SessionTickets.AccountKey("another key".getBytes(StandardCharsets.US_ASCII)), ticket, "alice@example.com"));
    }

    @Test
    void idsWithoutAWellFormedTicketHaveNone() {
        for (String id : new String[]{NAME, NAME + ".", NAME + ".short", NAME + "." + "m".repeat(22), NAME + "." + "m".repeat(22) + ".KRE",
                NAME + "." + "m".repeat(22) + ".KRE.", NAME + "." + "m".repeat(22) + "..m1", "garbage"}) {
            assertEquals(Optional.empty(), SessionTickets.parse(id), id);
        }
    }
}
