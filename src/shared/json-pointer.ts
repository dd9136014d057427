/**
 * Parses an RFC 6901 JSON Pointer ("/items/0/title") into its tokens.
 * Returns undefined when the text is not a pointer.
 */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  const tokens = pointer.slice(1).split("/");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (/~(?![01])/.test(token)) return undefined;
    tokens[i] = token.replaceAll("~1", "/").replaceAll("~0", "~");
  }
  return tokens;
}

export type PointerLookup = { found: true; value: unknown } | { found: false; at: string };

/**
 * Reads the value at `tokens` inside `document`, following own properties only, so that a
 * pointer can never reach `constructor` or anything else on a prototype.
 */
export function readJsonPointer(document: unknown, tokens: readonly string[]): PointerLookup {
  let current = document;
  let at = "";
  for (const token of tokens) {
    at += `/${token.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= current.length) return { found: false, at };
      current = current[Number(token)];
    } else if (current !== null && typeof current === "object" && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return { found: false, at };
    }
  }
  return { found: true, value: current };
}
