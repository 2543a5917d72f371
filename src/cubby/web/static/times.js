// Times: <time data-relative datetime="..."> shows "3 min ago" / "in 2 days"; the exact
// ISO-8601 time stays in the title (shown on hover) and in the page without script.
const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
               ["hour", 3600], ["minute", 60], ["second", 1]];

export function relative(then, now) {
  const seconds = Math.round((then - now) / 1000);
  if (Math.abs(seconds) < 10) return "just now";
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return format.format(Math.trunc(seconds / size), unit);
    }
  }
  return "";
}

export function initTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll("time[data-relative]")) {
    const then = Date.parse(el.getAttribute("datetime"));
    if (Number.isNaN(then)) continue;
    el.title = el.getAttribute("datetime");
    el.textContent = relative(then, now);
  }
}
