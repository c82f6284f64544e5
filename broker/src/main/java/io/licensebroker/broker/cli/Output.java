package io.licensebroker.broker.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where a command's answer goes: a table for people, or for scripts the answer's proto message in
 * protobuf's JSON mapping with the contract's field names (so {@code in_use}, as in the API) and
 * zero values printed, never hand-rolled JSON.
 */
final class Output {
    private static final JsonFormat.Printer JSON = JsonFormat.printer()
            .preservingProtoFieldNames()
            .includingDefaultValueFields();

    private final PrintWriter out;
    private final AdminOptions.Format format;

    Output(PrintWriter out, AdminOptions.Format format) {
        this.out = out;
        this.format = format;
    }

    boolean json() {
        return format == AdminOptions.Format.JSON;
    }

    PrintWriter writer() {
        return out;
    }

    /** As {@link #print(MessageOrBuilder, Consumer)}, or calls {@code csv} for {@code --output csv}. */
    void print(MessageOrBuilder message, Consumer<PrintWriter> human, Consumer<PrintWriter> csv) {
        print(message, format == AdminOptions.Format.CSV ? csv : human);
    }

    /** Prints {@code message} as JSON, or calls {@code human} to print it for people. */
    void print(MessageOrBuilder message, Consumer<PrintWriter> human) {
        if (json()) {
            try {
                out.println(JSON.print(message));
            } catch (InvalidProtocolBufferException e) {
                // Only Any fields with unknown types fail to print; the contract has none.
                throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
            }
        } else {
            human.accept(out);
        }
        out.flush();
    }

    /** Label-value lines with the values aligned. */
    static void fields(PrintWriter out, List<String[]> labelled) {
        int width = labelled.stream().mapToInt(f -> f[0].length()).max().orElse(0) + 1;
        for (String[] f : labelled) {
            out.println((f[0] + ":" + " ".repeat(width - f[0].length())) + " " + f[1]);
        }
    }

    static String[] field(String label, Object value) {
        return new String[]{label, value == null ? "" : value.toString()};
    }

    /** ISO-8601 in UTC; empty when unset. */
    static String time(boolean present, Timestamp t) {
        return present ? Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString() : "";
    }

    /** After a page of a listing: how to ask for the next one (nothing on the last page). */
    static void nextPage(PrintWriter out, String nextPageToken) {
        if (!nextPageToken.isEmpty()) {
            out.println();
            out.println("more: --page-token " + nextPageToken);
        }
    }

    /** One CSV line (RFC 4180): a cell with a comma, quote or line break is quoted, its quotes doubled. */
    static void csv(PrintWriter out, List<?> cells) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            String v = cells.get(i) == null ? "" : cells.get(i).toString();
            b.append(v.matches("(?s).*[,\"\r\n].*") ? '"' + v.replace("\"", "\"\"") + '"' : v);
        }
        out.print(b);
        out.print("\r\n");
    }

    static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }
}
