package io.licensebroker.broker.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * An aligned text table for people: columns separated by two spaces, text left-aligned, numbers
 * right-aligned, no trailing spaces. An empty cell stays empty (the account row has no parent).
 */
final class TextTable {
    private static final String GAP = "  ";

    private final List<String> headers = new ArrayList<>();
    private final List<Boolean> numeric = new ArrayList<>();
    private final List<String[]> rows = new ArrayList<>();

    TextTable text(String header) {
        headers.add(header);
        numeric.add(false);
        return this;
    }

    TextTable number(String header) {
        headers.add(header);
        numeric.add(true);
        return this;
    }

    TextTable row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.size() + " columns");
        }
        String[] row = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            row[i] = cells[i] == null ? "" : cells[i].toString();
        }
        rows.add(row);
        return this;
    }

    void print(PrintWriter out) {
        int[] widths = new int[headers.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = headers.get(i).length();
            for (String[] row : rows) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        out.println(line(headers.toArray(String[]::new), widths));
        for (String[] row : rows) {
            out.println(line(row, widths));
        }
        out.flush();
    }

    private String line(String[] cells, int[] widths) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                b.append(GAP);
            }
            String pad = " ".repeat(widths[i] - cells[i].length());
            b.append(numeric.get(i) ? pad + cells[i] : cells[i] + pad);
        }
        return b.toString().stripTrailing();
    }
}
