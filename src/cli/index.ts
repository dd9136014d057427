export {
  defineConfig,
  loadConfig,
  type BullmqConfig,
  type LoadedConfig,
  type McpServerConfig,
  type VolleyConfig,
} from "./load-config.ts";
export { CliError } from "./cli-error.ts";
