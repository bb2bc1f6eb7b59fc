package dev.sluice.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the IETF {@code RateLimit} / {@code RateLimit-Policy} header fields: a structured-field
 * list (RFC 9651) of string items with parameters, e.g. {@code "login/1";q=5;w=60, "login/2";q=20;w=3600}.
 * Only the subset Sluice emits is supported; anything else fails the parse loudly.
 */
final class RateLimitFields {

    private RateLimitFields() {
    }

    /** One list member: its name and parameters in order. */
    record Item(String name, Map<String, String> params) {
        String param(String key) {
            return params.get(key);
        }
    }

    static List<Item> parse(String field) {
        if (field == null) {
            throw new IllegalArgumentException("the header field is absent");
        }
        List<Item> items = new ArrayList<>();
        for (String member : field.split(",")) {
            String[] parts = member.trim().split(";");
            String name = parts[0].trim();
            if (name.length() < 2 || !name.startsWith("\"") || !name.endsWith("\"")) {
                throw new IllegalArgumentException("expected a quoted item name in " + field + ", got " + name);
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].trim().split("=", 2);
                params.put(kv[0], kv.length == 2 ? kv[1] : "?1");
            }
            items.add(new Item(name.substring(1, name.length() - 1), params));
        }
        return items;
    }
}
