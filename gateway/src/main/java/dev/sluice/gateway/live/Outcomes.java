package dev.sluice.gateway.live;

/** The outcome labels the live view counts, in array order (SPEC §6 names). */
final class Outcomes {
  static final String[] NAMES = {"allowed", "limited", "shadow_limited", "blocked"};
  static final int ALLOWED = 0;
  static final int LIMITED = 1;
  static final int SHADOW_LIMITED = 2;
  static final int BLOCKED = 3;
  static final int COUNT = NAMES.length;

  private Outcomes() {}

  /** The index of an outcome label, or -1 for one the live view does not count ({@code exempt}). */
  static int index(String label) {
    // The labels are string constants (interned): compare references first, text only on a miss.
    for (int i = 0; i < NAMES.length; i++) {
      if (NAMES[i] == label) {
        return i;
      }
    }
    for (int i = 0; i < NAMES.length; i++) {
      if (NAMES[i].equals(label)) {
        return i;
      }
    }
    return -1;
  }
}
