import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Every TypeScript block of the README and the guides is compiled against the sources, so that
 * the docs can't drift from the code. Each block is a module of its own; the names a guide's
 * snippets use without declaring them (`executor`, `tools`, …) are declared, with their types,
 * in `test/fixtures/doc-snippets.d.ts`.
 */
const ROOT = resolve(import.meta.dirname, "..");
const OUT = join(ROOT, "test-artifacts", "doc-blocks");
const PRELUDE = join(ROOT, "test", "fixtures", "doc-snippets.d.ts");

interface Block {
  file: string;
  line: number;
  code: string;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(ROOT, "docs", name));
  return [join(ROOT, "README.md"), join(ROOT, "CONTRIBUTING.md"), join(ROOT, "bench", "README.md"), ...docs];
}

function typescriptBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  for (let index = 0; index < lines.length; index++) {
    if (!/^```(ts|typescript)\b/.test(lines[index] as string)) continue;
    const start = index + 1;
    let end = start;
    while (end < lines.length && !(lines[end] as string).startsWith("```")) end++;
    blocks.push({ file: relative(ROOT, file), line: start + 1, code: lines.slice(start, end).join("\n") });
    index = end;
  }
  return blocks;
}

describe("the docs' TypeScript", () => {
  it("compiles, block by block, against the sources", () => {
    const blocks = markdownFiles().flatMap(typescriptBlocks);
    expect(blocks.length).toBeGreaterThan(10);
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const origins = new Map<string, Block>();
    blocks.forEach((block, index) => {
      const path = join(OUT, `${block.file.replaceAll(/[/.]/g, "_")}_${index}.ts`);
      // `export {}` makes every block a module, whose own names shadow the prelude's.
      writeFileSync(path, `${block.code}\nexport {};\n`);
      origins.set(path, block);
    });
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, "tsconfig.json"),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
        },
      },
    );
    if (config === undefined) throw new Error("tsconfig.json could not be read");
    const program = ts.createProgram([...origins.keys(), PRELUDE], config.options);
    const problems = ts.getPreEmitDiagnostics(program).flatMap((diagnostic) => {
      const origin = diagnostic.file && origins.get(resolve(diagnostic.file.fileName));
      if (origin === undefined || diagnostic.file === undefined) return [];
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return [`${origin.file}:${origin.line + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`];
    });
    expect(problems).toEqual([]);
  });
});

/** GitHub's anchor for a heading. */
function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replaceAll(/[^\w\- ]/g, "")
    .replaceAll(" ", "-");
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  let inCode = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) inCode = !inCode;
    const heading = !inCode && /^#{1,6} (.*)$/.exec(line);
    if (heading) anchors.add(slugOf(heading[1] as string));
  }
  return anchors;
}

describe("the docs' links", () => {
  it("lead to files that exist, and to headings they have", () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, "utf8").replaceAll(/```[\s\S]*?```/g, "");
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1] as string;
        if (/^[a-z]+:/.test(link)) continue;
        const [path, anchor] = link.split("#") as [string, string | undefined];
        const target = path === "" ? file : resolve(file, "..", path);
        let exists = true;
        try {
          readFileSync(target);
        } catch {
          exists = false;
        }
        if (!exists) broken.push(`${relative(ROOT, file)}: ${link} (no such file)`);
        else if (anchor !== undefined && target.endsWith(".md") && !anchorsOf(target).has(anchor))
          broken.push(`${relative(ROOT, file)}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
