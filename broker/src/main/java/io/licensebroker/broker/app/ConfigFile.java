package io.licensebroker.broker.app;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The optional YAML config file ({@code --config broker.yaml}): one mapping from setting keys
 * (flag names without the dashes) to single values.
 *
 * <pre>
 * port: 7443
 * lease-ttl: 30s
 * log-format: json
 * </pre>
 *
 * Anything else is a mistake to report, not to ignore: an unknown or repeated key, a list or
 * mapping where a value belongs, a key without a value. Problems are reported by line and key,
 * never by quoting the file, since it may hold the admin token.
 */
final class ConfigFile {
    /** A settings file has a dozen lines; anything near this is not one. */
    private static final int MAX_CODE_POINTS = 1 << 20;

    private ConfigFile() {
    }

    /** The settings in {@code file}; each problem found is added to {@code problems} (the result then holds the rest). */
    static Map<Setting, String> read(Path file, List<String> problems) {
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        String where = describe(file);
        Object document;
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(0);
        options.setCodePointLimit(MAX_CODE_POINTS);
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            document = new Yaml(new SafeConstructor(options)).load(reader);
        } catch (IOException e) {
            problems.add(where + ": cannot read it (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            return out;
        } catch (MarkedYAMLException e) {
            problems.add(where + ": not valid YAML: " + e.getProblem() + at(e.getProblemMark()));
            return out;
        } catch (YAMLException e) {
            // Without a mark the message is snakeyaml's own summary, which does not quote the file.
            problems.add(where + ": not valid YAML: " + e.getMessage());
            return out;
        }
        if (document == null) {
            return out; // an empty file sets nothing
        }
        if (!(document instanceof Map<?, ?> map)) {
            problems.add(where + ": must be a mapping of setting names to values (like 'port: 7443'), not a "
                    + kind(document));
            return out;
        }
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            String key = String.valueOf(entry.getKey());
            Setting setting = Setting.byKey(key);
            if (setting == null) {
                problems.add(where + ": unknown setting '" + key + "'" + suggestion(key) + "; known settings: " + known());
            } else if (setting == Setting.CONFIG) {
                problems.add(where + ": '" + key + "' cannot be set inside the config file; give --config or " + Setting.CONFIG.env());
            } else if (entry.getValue() == null) {
                problems.add(where + ": setting '" + key + "' has no value");
            } else if (entry.getValue() instanceof Map<?, ?> || entry.getValue() instanceof Collection<?>) {
                problems.add(where + ": setting '" + key + "' must be a single value, not a " + kind(entry.getValue()));
            } else {
                out.put(setting, String.valueOf(entry.getValue()));
            }
        }
        return out;
    }

    static String describe(Path file) {
        return "config file " + file;
    }

    private static String at(Mark mark) {
        return mark == null ? "" : " (line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ")";
    }

    private static String kind(Object value) {
        if (value instanceof Map<?, ?>) {
            return "mapping";
        }
        if (value instanceof Collection<?>) {
            return "list";
        }
        return "single value";
    }

    /** The commonest slip: snake_case or a flag's dashes for the kebab-case key. */
    private static String suggestion(String key) {
        String kebab = key.replaceFirst("^-+", "").replace('_', '-').toLowerCase(Locale.ROOT);
        Setting near = Setting.byKey(kebab);
        return near == null || near == Setting.CONFIG ? "" : " (did you mean '" + near.key() + "'?)";
    }

    private static String known() {
        return Stream.of(Setting.values()).filter(s -> s != Setting.CONFIG).map(Setting::key).collect(Collectors.joining(", "));
    }
}
