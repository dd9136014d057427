/**
 * JSON text for any value, in a faithful readable form where JSON has none: BigInt as
 * `{"$bigint":"12"}`, `undefined` as `{"$undefined":true}`, a Buffer or typed array as
 * `{"$bytes":"<base64>"}`, an Error as `{"$error":{name,message,stack}}`, a cycle as
 * `{"$circular":"/path"}`, a function or symbol by its description. Never throws.
 */
export function toStoredJson(value: unknown): string {
  const seen = new Map<object, string>();
  const convert = (input: unknown, path: string): unknown => {
    switch (typeof input) {
      case "bigint":
        return { $bigint: input.toString() };
      case "undefined":
        return { $undefined: true };
      case "function":
        return { $function: input.name || "anonymous" };
      case "symbol":
        return { $symbol: input.description ?? "" };
      case "number":
        return Number.isFinite(input) ? input : { $number: String(input) };
      case "string":
      case "boolean":
        return input;
    }
    if (input === null) return null;
    const object = input as object;
    const earlier = seen.get(object);
    if (earlier !== undefined) return { $circular: earlier || "/" };
    seen.set(object, path);
    try {
      if (object instanceof Error)
        return { $error: { name: object.name, message: object.message, stack: object.stack } };
      if (ArrayBuffer.isView(object))
        return { $bytes: Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString("base64") };
      if (object instanceof Date) return Number.isNaN(object.getTime()) ? { $date: "invalid" } : object.toISOString();
      if (object instanceof Map)
        return {
          $map: [...object].map(([key, item], index) => [
            convert(key, `${path}/${index}/0`),
            convert(item, `${path}/${index}/1`),
          ]),
        };
      if (object instanceof Set) return { $set: [...object].map((item, index) => convert(item, `${path}/${index}`)) };
      if (Array.isArray(object)) return object.map((item, index) => convert(item, `${path}/${index}`));
      if (typeof (object as { toJSON?: unknown }).toJSON === "function")
        return convert((object as { toJSON(): unknown }).toJSON(), path);
      const plain: Record<string, unknown> = {};
      for (const key of Object.keys(object)) {
        Object.defineProperty(plain, key, {
          value: convert((object as Record<string, unknown>)[key], `${path}/${key}`),
          enumerable: true,
        });
      }
      return plain;
    } finally {
      seen.delete(object);
    }
  };
  try {
    return JSON.stringify(convert(value, ""));
  } catch (error) {
    return JSON.stringify({ $unstorable: error instanceof Error ? error.message : String(error) });
  }
}

/** Cuts stored JSON to `maxChars`; a cut value is kept as `{"$truncated": "<its first chars>"}`. */
export function truncateStoredJson(json: string, maxChars: number): { json: string; truncated: boolean } {
  if (json.length <= maxChars) return { json, truncated: false };
  return { json: JSON.stringify({ $truncated: json.slice(0, maxChars) }), truncated: true };
}
