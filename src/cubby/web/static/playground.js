// The playground runs without a reload: the form goes to /ui/playground/run (the same
// execute path the API uses) and the status, duration, response and snippets fill the page.
import { csrfToken } from "./csrf.js";

export function initPlayground(root) {
  const form = root.querySelector("form[data-playground]");
  const pane = root.querySelector("[data-result]");
  if (!form || !pane) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
        credentials: "same-origin",
      });
      const result = await response.json();
      const field = (name) => pane.querySelector(`[data-field="${name}"]`);
      if (!response.ok) {
        field("status").textContent = String(response.status);
        field("duration").textContent = "";
        field("response").textContent = JSON.stringify(result, null, 2);
      } else {
        field("status").textContent = String(result.status);
        field("duration").textContent = String(result.durationMs);
        field("response").textContent = JSON.stringify(result.response, null, 2);
        for (const lang of ["curl", "python", "typescript"]) {
          field("snippet-" + lang).textContent = result.snippets[lang];
        }
      }
      pane.hidden = false;
      pane.dataset.runs = String(Number(pane.dataset.runs || "0") + 1);
    } finally {
      button.disabled = false;
    }
  });
}
