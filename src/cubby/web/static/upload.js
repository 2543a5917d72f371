// Uploads with progress: each chosen file is streamed as the raw body of its own request
// (no base64 in the browser, no whole-form buffering), then the folder view reloads.
import { csrfToken } from "./csrf.js";

function send(url, file, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = e.loaded / e.total;
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else {
        let message = xhr.statusText;
        try { message = JSON.parse(xhr.responseText).error || message; } catch { /* keep */ }
        reject(new Error(message));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("network error")));
    xhr.send(file);
  });
}

export function initUpload(root) {
  for (const form of root.querySelectorAll("form[data-upload]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = form.querySelector('input[type="file"]');
      const list = form.querySelector(".progress");
      const max = Number(form.dataset.maxBytes);
      let folder = form.querySelector('input[name="folder"]').value.trim().replace(/^\/+/, "");
      if (folder && !folder.endsWith("/")) folder += "/";
      const endUser = form.querySelector('input[name="endUser"]');
      list.replaceChildren();
      let failed = 0;
      for (const file of input.files) {
        const item = document.createElement("li");
        item.textContent = folder + file.name;  // text, never markup
        const bar = document.createElement("progress");
        bar.max = 1;
        bar.value = 0;
        bar.setAttribute("aria-label", "Upload progress of " + file.name);
        item.append(bar);
        list.append(item);
        if (file.size > max) {
          item.append(" too large (limit " + max + " bytes)");
          failed++;
          continue;
        }
        const params = new URLSearchParams({ path: folder + file.name });
        if (file.type) params.set("type", file.type);
        if (endUser) params.set("endUser", endUser.value);
        try {
          await send(form.getAttribute("action") + "?" + params.toString(), file, bar);
          item.append(" done");
        } catch (e) {
          item.append(" failed: " + e.message);
          failed++;
        }
      }
      if (!failed) {
        const next = new URL(window.location.href);
        next.searchParams.set("prefix", folder);
        next.searchParams.delete("cursor");
        window.location.assign(next.toString());
      }
    });
  }
}
