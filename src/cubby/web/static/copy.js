// "Copy" buttons: data-copy="<selector>" copies that element's value or text.
export function initCopy(root) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = root.querySelector(button.dataset.copy);
      if (!source) return;
      const text = "value" in source && source.tagName !== "PRE" ? source.value : source.textContent;
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        if (source.select) source.select();
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
}
