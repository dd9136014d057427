/** The oldest Node.js Volley runs on: the first 22.x with `node:sqlite` unflagged. */
export const MINIMUM_NODE = { major: 22, minor: 13 } as const;

/**
 * Why this Node.js can't run `what`, in words for a person; undefined when it can. `then` says
 * what to do once Node.js is upgraded.
 */
export function unsupportedNode(version: string, what = "Volley", then = "run volley again"): string | undefined {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major > MINIMUM_NODE.major || (major === MINIMUM_NODE.major && minor >= MINIMUM_NODE.minor)) return undefined;
  return `${what} needs Node.js ${MINIMUM_NODE.major}.${MINIMUM_NODE.minor} or newer, and this is ${version}. Install Node.js 24 LTS (for example \`nvm install 24\`, or from nodejs.org), then ${then}.`;
}
