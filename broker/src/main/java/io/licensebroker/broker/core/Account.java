package io.licensebroker.broker.core;

import java.util.Objects;

public record Account(String id, String name) {
    public Account {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
    }
}
