import { readdirSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";

export interface DashboardAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * The dashboard's files by URL path (`/` is its page), read once: it is a handful of small
 * files of plain JavaScript modules that the browser loads as they are, with no build step.
 */
export function dashboardAssets(): Map<string, DashboardAsset> {
  const folder = fileURLToPath(new URL("./dashboard/", import.meta.url));
  const assets = new Map<string, DashboardAsset>();
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return assets;
  }
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    const file = readFileSync(`${folder}${name}`);
    assets.set(`/${name}`, { body: new Uint8Array(file.buffer, file.byteOffset, file.byteLength), contentType });
  }
  const page = assets.get("/index.html");
  if (page !== undefined) assets.set("/", page);
  return assets;
}
