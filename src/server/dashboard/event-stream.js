// @ts-check
// Reads a text/event-stream response. The dashboard reads its runs with fetch rather than
// EventSource, because EventSource cannot send the Authorization header a token needs.

/**
 * @typedef {{ event: string, data: string, id: string | undefined }} ServerSentEvent
 */

/**
 * Yields each event of a server-sent event stream as it arrives; ends with the stream.
 * @param {Response} response
 * @returns {AsyncGenerator<ServerSentEvent>}
 */
export async function* readEventStream(response) {
  if (response.body === null) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      // Events end at a blank line; lines end with \n, \r\n or \r.
      const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
      buffer = blocks.pop() ?? "";
      for (const block of blocks) {
        const event = parseEvent(block);
        if (event !== undefined) yield event;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * @param {string} block
 * @returns {ServerSentEvent | undefined}
 */
function parseEvent(block) {
  let event = "message";
  /** @type {string[]} */
  const data = [];
  /** @type {string | undefined} */
  let id;
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  return data.length === 0 ? undefined : { event, data: data.join("\n"), id };
}
