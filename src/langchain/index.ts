export { fromLangChainTools, type FromLangChainToolsOptions, type LangChainToolLike } from "./from-langchain-tools.ts";
export { volleyToolNode, type VolleyToolNodeOptions } from "./tool-node.ts";
