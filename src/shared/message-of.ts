/**
 * The message of anything thrown, for one line of text. Never throws itself: a thrown value can
 * be hostile (a Proxy whose traps throw, a `message` getter that throws, a `toString` that does).
 */
export function messageOf(thrown: unknown): string {
  try {
    return thrown instanceof Error ? thrown.message : String(thrown);
  } catch {
    return "(a value that could not be read was thrown)";
  }
}
