package dev.sluice.it;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text exposition, enough to read counters by name and labels. */
final class Metrics {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+\\d+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final String text;

    Metrics(String text) {
        this.text = text;
    }

    /**
     * The sum of every sample named {@code name} whose labels include all of {@code labels}
     * (other labels are ignored); 0 when there is none.
     */
    double sum(String name, Map<String, String> labels) {
        double total = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher sample = SAMPLE.matcher(line.trim());
            if (!sample.matches() || !sample.group(1).equals(name)) {
                continue;
            }
            Map<String, String> present = new LinkedHashMap<>();
            if (sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    present.put(label.group(1), label.group(2));
                }
            }
            if (present.entrySet().containsAll(labels.entrySet())) {
                total += Double.parseDouble(sample.group(3));
            }
        }
        return total;
    }

    /** {@code sluice_requests_total} for one policy and outcome. */
    long requests(String policy, String outcome) {
        return (long) sum("sluice_requests_total", Map.of("policy", policy, "outcome", outcome));
    }

    @Override
    public String toString() {
        return text;
    }
}
