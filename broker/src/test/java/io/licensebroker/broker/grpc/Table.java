package io.licensebroker.broker.grpc;

import io.grpc.Status;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.Executable;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Table-driven RPC tests: every row runs against a fresh {@link World#standard()}, so rows are
 * independent. A refusal row separates its setup (the function body) from the call it asserts
 * on (the returned Executable), so a failing setup is never mistaken for the refusal under test.
 */
final class Table {
    private Table() {
    }

    record Row(String name, Consumer<World> body) {
    }

    static Stream<DynamicTest> of(Row... rows) {
        return Stream.of(rows).map(r -> DynamicTest.dynamicTest(r.name(), () -> {
            try (World w = World.standard()) {
                r.body().accept(w);
            }
        }));
    }

    static Row ok(String name, Consumer<World> body) {
        return new Row("ok: " + name, body);
    }

    static Row refused(String name, Status.Code code, String reason, String field, Function<World, Executable> setup) {
        return new Row(code + " " + reason + (field == null ? "" : "(" + field + ")") + ": " + name,
                w -> Refusals.assertRefused(code, reason, field, setup.apply(w)));
    }

    static Row refused(String name, Status.Code code, String reason, Function<World, Executable> setup) {
        return refused(name, code, reason, null, setup);
    }

    static Row invalid(String name, String field, Function<World, Executable> setup) {
        return refused(name, Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", field, setup);
    }

    static Row denied(String name, Function<World, Executable> setup) {
        return refused(name, Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED", setup);
    }

    static Row unauthenticated(String name, Function<World, Executable> setup) {
        return refused(name, Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", setup);
    }
}
