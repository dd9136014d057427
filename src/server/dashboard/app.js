// @ts-check
// Volley's dashboard: plain JavaScript modules, no build step, no HTML ever made from data.
import { ApiError, getJson, setToken, takeTokenFromAddress } from "./api.js";
import { h, show } from "./dom.js";
import { mountRunPage } from "./run-page.js";
import { mountRunsPage } from "./runs-page.js";
import { mountToolsPage } from "./tools-page.js";

const view = /** @type {HTMLElement} */ (document.getElementById("view"));
/** @type {() => void} */
let unmount = () => {};

async function route() {
  unmount();
  takeTokenFromAddress();
  const hash = location.hash.replace(/^#/, "") || "/";
  const runMatch = /^\/runs\/(.+)$/.exec(hash);
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", link.getAttribute("data-nav") === (hash.startsWith("/tools") ? "tools" : "runs"));
  }
  if (!(await authorised())) return;
  if (runMatch?.[1] !== undefined) unmount = mountRunPage(view, decodeURIComponent(runMatch[1]));
  else if (hash.startsWith("/tools")) unmount = mountToolsPage(view);
  else unmount = mountRunsPage(view);
}

/** Asks for a token when the server wants one this tab does not have. */
async function authorised() {
  try {
    await getJson("/api/health");
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
