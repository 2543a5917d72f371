// Sortable tables: <table data-sortable> with <th data-sort="text|number">; a click sorts the
// rows of this page by that column (again: the other way). A cell's data-value, when present,
// is what is compared (bytes, ISO times). Folder rows stay on top.
export function initSort(root) {
  for (const table of root.querySelectorAll("table[data-sortable]")) {
    const body = table.tBodies[0];
    table.querySelectorAll("th[data-sort]").forEach((th) => {
      const column = th.cellIndex;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent.toLowerCase();
      th.textContent = "";
      th.append(button);
      button.addEventListener("click", () => {
        const up = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th[aria-sort]").forEach((other) => other.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        const key = (row) => {
          const cell = row.cells[column];
          const raw = cell ? (cell.dataset.value ?? cell.textContent.trim()) : "";
          return th.dataset.sort === "number" ? Number(raw) || 0 : raw.toLowerCase();
        };
        const rows = Array.from(body.rows).filter((row) => row.cells.length > 1);
        const pinned = rows.filter((row) => row.classList.contains("folder"));
        const sorted = rows.filter((row) => !row.classList.contains("folder")).sort((a, b) => {
          const x = key(a), y = key(b);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        body.append(...pinned, ...sorted);
      });
    });
  }
}
