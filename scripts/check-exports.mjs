// Imports every entry point of the built package as a user would (`volley`, `volley/mcp`, ...),
// so that a missing file in dist/ or a broken export map fails CI, not a user.
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const entries = Object.keys(manifest.exports).filter((subpath) => subpath !== "./package.json");
for (const subpath of entries) {
  const specifier = subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
  const module = await import(specifier);
  const names = Object.keys(module);
  if (names.length === 0) throw new Error(`${specifier} exports nothing`);
  console.log(`${specifier}: ${names.length} exports`);
}

// The `volley` bin must run as a command, as `npx volley` runs it.
const { accessSync, constants } = await import("node:fs");
for (const [name, file] of Object.entries(manifest.bin ?? {})) {
  accessSync(new URL(`../${file}`, import.meta.url), constants.X_OK);
  console.log(`bin ${name}: ${file} is executable`);
}
