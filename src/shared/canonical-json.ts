/**
 * JSON text with object keys sorted at every depth, so that equal values give equal text
 * whatever order their keys were written in. Throws where `JSON.stringify` would
 * (BigInt, cycles).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, nested: unknown) => {
    if (nested === null || typeof nested !== "object" || Array.isArray(nested)) return nested;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(nested).sort()) {
      Object.defineProperty(sorted, key, {
        value: (nested as Record<string, unknown>)[key],
        enumerable: true,
      });
    }
    return sorted;
  });
}

/**
 * Why `value` can't be sent to a model as JSON, or undefined when it can. Values that
 * `JSON.stringify` would drop or throw on are refused; `undefined` at the top is allowed (a tool
 * that returns nothing).
 */
export function whyNotJson(value: unknown): string | undefined {
  switch (typeof value) {
    case "undefined":
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${String(value)} is not a JSON number`;
    case "bigint":
      return "a BigInt is not a JSON value";
    case "function":
    case "symbol":
      return `a ${typeof value} is not a JSON value`;
  }
  if (value === null) return undefined;
  try {
    JSON.stringify(value);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
