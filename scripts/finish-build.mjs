// After tsc: the dashboard's files join the build as they are, and the `volley` bin becomes executable.
import { chmodSync, cpSync } from "node:fs";

cpSync("src/server/dashboard", "dist/server/dashboard", {
  recursive: true,
  filter: (path) => !path.endsWith("tsconfig.json"),
});
chmodSync("dist/cli/main.js", 0o755);
