// cubby dashboard: small enhancements on server-rendered pages (they work without this file).
import { initCopy } from "./copy.js";
import { initJsonFields } from "./json-fields.js";
import { initUpload } from "./upload.js";
import { initPlayground } from "./playground.js";
import { initForms } from "./forms.js";
import { initTimes } from "./times.js";
import { initSort } from "./sort.js";

function start() {
  initCopy(document);
  initJsonFields(document);
  initUpload(document);
  initPlayground(document);
  initForms(document);
  initTimes(document);
  initSort(document);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
