export {
  volleyFunctionTools,
  type FunctionToolLike,
  type VolleyFunctionToolsOptions,
} from "./volley-function-tools.ts";
