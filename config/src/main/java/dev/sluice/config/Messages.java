package dev.sluice.config;

import java.util.Collection;
import java.util.Optional;

/**
 * Every message of the YAML layer, in one place so the wording stays consistent and tests can
 * assert the exact text. Each names the config path, what is wrong, the offending value and what
 * was expected. Messages of semantic rules come from the core builders unchanged.
 */
final class Messages {
  private Messages() {}

  static String unknownKey(String parent, String key, Collection<String> valid) {
    Optional<String> suggestion = Spelling.closest(key, valid);
    String where = parent.isEmpty() ? "at the top level" : "in " + parent;
    return "unknown field " + quote(key) + " " + where
        + suggestion.map(s -> "; did you mean " + quote(s) + "?").orElse("")
        + " (valid fields: " + String.join(", ", valid) + ")";
  }

  static String duplicateKey(String parent, String key, int firstLine) {
    String where = parent.isEmpty() ? "at the top level" : "in " + parent;
    return "duplicate field " + quote(key) + " " + where + " (first set at line " + firstLine
        + "); expected each field once";
  }

  static String nonScalarKey(String parent) {
    return (parent.isEmpty() ? "top level" : parent) + ": field names must be plain words";
  }

  static String wrongType(String path, String expected, String actual) {
    return path + ": expected " + expected + ", got " + actual;
  }

  static String missing(String path, String example) {
    return path + " is required; e.g. " + example;
  }

  static String badEnum(String path, String value, Collection<String> valid) {
    Optional<String> suggestion = Spelling.closest(value, valid);
    return path + ": unknown value " + quote(value) + "; expected one of " + String.join(", ", valid)
        + suggestion.map(s -> " (did you mean " + quote(s) + "?)").orElse("");
  }

  static String badVersion(String value) {
    return "version: unsupported version " + value + "; expected 1";
  }

  static String badInteger(String path, String value, long min, long max) {
    return path + ": " + quote(value) + " is not a whole number; expected " + range(min, max);
  }

  static String integerOutOfRange(String path, String value, long min, long max) {
    return path + ": " + value + " is out of range; expected " + range(min, max);
  }

  private static String range(long min, long max) {
    return max == Long.MAX_VALUE ? "a whole number of at least " + min : "a whole number from " + min + " to " + max;
  }

  static String badDuration(String path, String value) {
    return path + ": bad duration " + quote(value)
        + "; expected a positive whole number with a unit ms, s, m, h or d (e.g. 50ms, 30s, 15m, 24h)";
  }

  static String durationTooLong(String path, String value, java.time.Duration max) {
    return path + ": " + value + " is too long; expected at most " + dev.sluice.time.DurationText.format(max);
  }

  static String badAddress(String path, String value, String problem) {
    return path + ": bad address " + quote(value) + ": " + problem
        + "; expected host:port (e.g. 127.0.0.1:8080 or [::1]:8080)";
  }

  static String badUrl(String path, String value, String problem, String expected) {
    return path + ": bad URL " + quote(value) + ": " + problem + "; expected " + expected;
  }

  static String prefixed(String path, String message) {
    return path + ": " + message;
  }

  static String encodedSlashPattern(String path, String pattern, String mode) {
    return path + ": " + quote(pattern) + " holds an encoded slash \"%2F\", which never matches while"
        + " gateway.encoded_slashes is " + mode + "; expected " + quote(pattern.replace("%2F", "/"))
        + ", or encoded_slashes: keep for an upstream that routes %2F as a literal";
  }

  static String emptyList(String path, String example) {
    return path + " is empty; expected at least one entry, e.g. " + example;
  }

  static String emptyDocument() {
    return "the policy file is empty; expected a mapping that starts with version: 1";
  }

  static String yamlSyntax(String problem) {
    return "YAML syntax error: " + problem;
  }

  static String scalarTooLong(int length, int max) {
    return "a value of " + length + " characters; expected at most " + max
        + " (limits, paths, names and file names are short)";
  }

  static String tooDeep(int max) {
    return "lists and mappings nest more than " + max + " levels deep here; expected a policy file"
        + " nested a few levels (version, policies, match, paths)";
  }

  static String recursiveAlias(String alias) {
    return "alias *" + alias + " refers to a value that contains it; expected an alias to a value"
        + " defined before it, outside it";
  }

  static String aliasExpandsTooMuch(String alias, long size, int max) {
    return "alias *" + alias + " expands to " + size + " values, which makes the policy file larger"
        + " than " + max + " values once aliases are expanded; expected fewer (an alias bomb?)";
  }

  static String tooManyValues(int max) {
    return "the policy file has more than " + max + " values; expected fewer";
  }

  static String fileTooLarge(String size) {
    return "the policy file is larger than " + size + "; expected a file of at most " + size;
  }

  static String cannotRead(String problem) {
    return "cannot read the policy file: " + problem;
  }

  static String cannotReadReferenced(String path, String file, String problem) {
    return path + ": cannot read " + quote(file) + ": " + problem;
  }

  static String envNotSet(String path, String variable, String what) {
    return path + ": environment variable " + variable + " is not set; expected it to hold " + what;
  }

  static String envEmpty(String path, String variable, String what) {
    return path + ": environment variable " + variable + " is empty; expected it to hold " + what;
  }

  static String weakAdminToken(String path, String variable, int length, int min) {
    return path + ": environment variable " + variable + " holds a token of " + length
        + " characters or with spaces or control characters; expected at least " + min
        + " printable ASCII characters without spaces (e.g. the output of openssl rand -hex 32)";
  }

  static String adminWithoutToken(String address) {
    return "gateway.admin: the admin API would listen on " + address + ", beyond loopback, without a token:"
        + " anyone who can reach that address could create and lift bans; expected gateway.admin_token_env"
        + " (a bearer token), gateway.admin on a loopback address such as 127.0.0.1:9090, or"
        + " gateway.admin_insecure: true to accept the risk";
  }

  static String badAdminHost(String path, String value) {
    return path + ": " + quote(value) + " is not a host name; expected a name the admin API is reached by,"
        + " optionally with a port, e.g. sluice-admin.internal or sluice-admin.internal:9090";
  }

  static String badEscalate(String path, String value) {
    return path + ": bad factor " + quote(value) + "; expected a whole number followed by x, e.g."
        + " 2x (each offence doubles the ban) or 1x (no escalation)";
  }

  static String badRollout(String path, String value) {
    return path + ": " + quote(value) + " is not a rollout share; expected a percentage from 0% to 100%"
        + " (e.g. rollout: 10%)";
  }

  static String unclosedReference(String text) {
    return "environment reference " + quote(text) + " has no closing '}'; expected ${NAME} or ${NAME:-default}"
        + " (write $$ for a literal $)";
  }

  static String badReference(String text) {
    return quote(text) + " is not an environment reference; expected ${NAME} or ${NAME:-default} with NAME"
        + " of letters, digits and '_' (write $$ for a literal $)";
  }

  static String unsetVariable(String name) {
    return "environment variable " + name + " is not set and ${" + name + "} has no default; expected it"
        + " set, or a default such as ${" + name + ":-value}";
  }

  static String unsetVariableWarning(String name, String position) {
    return "environment variable " + name + " (" + position + ") is not set and has no default:"
        + " sluice serve would refuse this file";
  }

  static String badSnapshotPath(String value) {
    return "store.snapshot: " + quote(value) + " is not a file path; expected a path such as sluice-store.snapshot";
  }

  static String badEnvName(String path, String value) {
    return path + ": " + quote(value)
        + " is not an environment variable name; expected letters, digits and '_' (e.g. SLUICE_JWT_SECRET)";
  }

  static String exactlyOne(String path, String a, String b) {
    return path + ": expected exactly one of " + a + " or " + b;
  }

  static String onlyForRedis(String path, String type) {
    return path + " applies only to type: redis (the store is " + type + "); remove it";
  }

  static String onlyForMemory(String path) {
    return path + " applies only to type: memory (redis bounds its keys by expiry); remove it";
  }

  static String duplicateEntry(String path, String value, int firstLine) {
    return path + ": " + quote(value) + " is listed twice (first at line " + firstLine
        + "); expected each entry once";
  }

  static String identityNotConfigured(String path, String kind, String needed) {
    return path + ": identity " + kind + " is not configured, so it would never identify a request;"
        + " expected " + needed;
  }

  static String blank(String path) {
    return path + " is blank; expected a value";
  }

  static String quote(String value) {
    return value == null ? "null" : "\"" + value + "\"";
  }
}
