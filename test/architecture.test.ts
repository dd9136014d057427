import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The folders of `src/`, in layers: a folder's code imports only folders of lower layers, so
 * there is no cycle between folders and each layer can be read knowing only those below it.
 * docs/architecture.md shows the same map.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["shared"],
  ["errors", "run"],
  ["tool"],
  ["backend", "store", "adapters", "otel", "testing", "mcp"],
  ["worker", "scheduler"],
  ["executor", "bullmq"],
  ["agent", "mcp-server", "langchain", "openai-agents"],
  ["ai-sdk", "server"],
  ["cli"],
];

const SRC = resolve(import.meta.dirname, "../src");
const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));

/** Every TypeScript file under `folder`; with `shippedOnly`, not tests, contract suites or fixtures. */
function sourceFiles(folder: string, shippedOnly = true): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path, shippedOnly);
    const shipped = !/\.(test|test-d|contract|fixture)\.ts$/.test(entry.name);
    return /\.tsx?$/.test(entry.name) && (shipped || !shippedOnly) ? [path] : [];
  });
}

/** Relative imports (static, dynamic or for side effects) in one file, as written. */
function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(?\s*)"(\.{1,2}\/[^"]+)"/g)].map((match) => match[1] as string);
}

/** The top folder of `src/` that a path is in, or undefined for the package root's own files. */
function folderOf(path: string): string | undefined {
  const parts = relative(SRC, path).split("/");
  return parts.length > 1 ? parts[0] : undefined;
}

/** Every import of one folder by another: `[from folder, to folder, file]`. */
function crossFolderImports(): [string, string, string][] {
  const found: [string, string, string][] = [];
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (from === undefined) continue;
    for (const specifier of relativeImports(readFileSync(file, "utf8"))) {
      const to = folderOf(resolve(dirname(file), specifier));
      if (to !== undefined && to !== from) found.push([from, to, relative(SRC, file)]);
    }
  }
  return found;
}

describe("the folders of src/", () => {
  it("are each in a layer", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !layerOf.has(folder))).toEqual([]);
  });

  it("import only folders of lower layers, so that no two import each other", () => {
    const imports = crossFolderImports();
    expect(imports.length).toBeGreaterThan(50);
    const upward = imports
      .filter(([from, to]) => (layerOf.get(to) ?? Infinity) >= (layerOf.get(from) ?? -1))
      .map(([from, to, file]) => `${file}: ${from} → ${to}`);
    expect(upward).toEqual([]);
  });

  it("hold their own tests' helpers: nothing in src/, tests included, imports from outside it", () => {
    const outside = sourceFiles(SRC, false).flatMap((file) =>
      relativeImports(readFileSync(file, "utf8"))
        .filter((specifier) => relative(SRC, resolve(dirname(file), specifier)).startsWith(".."))
        .map((specifier) => `${relative(SRC, file)}: ${specifier}`),
    );
    expect(outside).toEqual([]);
  });
});
