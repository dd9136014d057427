/** Addresses a server may listen on without a token: only this machine can reach them. */
const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1", "localhost"]);
/** Host names (as a URL writes them) that a request to this machine alone carries. */
const LOOPBACK_HOSTNAMES = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Whether listening on `host` keeps the server on this machine. */
export function isLoopbackAddress(host: string): boolean {
  return LOOPBACK_ADDRESSES.has(host);
}

/**
 * Whether a request was addressed to this machine by a loopback name. Without a token, a server
 * answers only such requests, so that a web page can't reach it by pointing a domain of its own
 * at 127.0.0.1 (DNS rebinding).
 */
export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTNAMES.has(hostname);
}
