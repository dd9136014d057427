// @ts-check
// Volley's dashboard: plain JavaScript modules, no build step, no HTML ever made from data.
import { ApiError, getJson, setToken, takeTokenFromAddress } from "./api.js";
import { mountChatPage } from "./chat-page.js";
import { h, show } from "./dom.js";
import { mountRunPage } from "./run-page.js";
import { mountRunsPage } from "./runs-page.js";
import { mountToolsPage } from "./tools-page.js";

const view = /** @type {HTMLElement} */ (document.getElementById("view"));
/** @type {() => void} */
let unmount = () => {};
/** Counts navigations: one that a newer one overtook while it waited mounts nothing. */
let navigations = 0;

async function route() {
  const navigation = ++navigations;
  unmount();
  unmount = () => {};
  takeTokenFromAddress();
  const hash = location.hash.replace(/^#/, "") || "/";
  const runMatch = /^\/runs\/(.+)$/.exec(hash);
  const chatMatch = /^\/chat(?:\/(.+))?$/.exec(hash);
  const section = hash.startsWith("/tools") ? "tools" : chatMatch ? "chat" : "runs";
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", link.getAttribute("data-nav") === section);
  }
  if (!(await authorised()) || navigation !== navigations) return;
  if (chatMatch)
    unmount = mountChatPage(view, chatMatch[1] === undefined ? undefined : decodeURIComponent(chatMatch[1]));
  else if (runMatch?.[1] !== undefined) unmount = mountRunPage(view, decodeURIComponent(runMatch[1]));
  else if (hash.startsWith("/tools")) unmount = mountToolsPage(view);
  else unmount = mountRunsPage(view);
}

/** Asks for a token when the server wants one this tab does not have. */
async function authorised() {
  try {
    const health = await getJson("/api/health");
    // The chat is there when the server serves an agent.
    document.querySelector('[data-nav="chat"]')?.toggleAttribute("hidden", health.agent !== true);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
    const input = h("input", { type: "password", name: "token", autocomplete: "off", placeholder: "token" });
    show(
      view,
      h("h1", {}, "Token needed"),
      h("p", {}, "This server was started with a token. Paste it to continue; it is kept for this tab only."),
      h(
        "form",
        {
          onSubmit: (event) => {
            event.preventDefault();
            setToken(input.value.trim());
            void route();
          },
        },
        input,
        h("button", { type: "submit" }, "Continue"),
      ),
    );
    unmount = () => {};
    return false;
  }
}

window.addEventListener("hashchange", () => void route());
void route();
