package io.licensebroker.broker.cli;

import picocli.CommandLine.Option;

import java.util.function.BinaryOperator;
import java.util.function.Function;

/** The paging options of every listing command (a picocli mixin), and following the pages with --all. */
final class Paging {
    @Option(names = "--page-size", paramLabel = "<n>", description = "1..1000 (default 100)")
    int pageSize;

    @Option(names = "--page-token", paramLabel = "<token>", description = "the next page token of a previous page")
    String pageToken = "";

    @Option(names = "--all", description = "follow the pages to the end")
    boolean all;

    /**
     * The page at {@code --page-token}; with {@code --all}, that page and every next one joined into
     * one, whose next page token is then empty.
     *
     * @param pageAt    the page at a token
     * @param nextToken a page's next page token ("" on the last)
     * @param join      a page with the next one appended, carrying the next one's token
     */
    <P> P fetch(Function<String, P> pageAt, Function<P, String> nextToken, BinaryOperator<P> join) {
        P page = pageAt.apply(pageToken);
        while (all && !nextToken.apply(page).isEmpty()) {
            page = join.apply(page, pageAt.apply(nextToken.apply(page)));
        }
        return page;
    }
}
