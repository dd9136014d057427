export { VolleyError, describeValue, type VolleyErrorCode } from "./volley-error.ts";
export { ToolError, type ToolErrorOptions } from "./tool-error.ts";
