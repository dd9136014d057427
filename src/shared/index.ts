/** Small pieces every folder may use. */
export type { Clock } from "./clock.ts";
