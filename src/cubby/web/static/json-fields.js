// JSON fields (data-json): validated as you type; a form with an invalid one is not sent and
// the error shows next to the field.
function check(field) {
  const error = field.parentElement.querySelector(".json-error");
  const text = field.value.trim();
  let message = "";
  if (text !== "" || field.required) {
    try { JSON.parse(text); } catch (e) { message = "Invalid JSON: " + e.message; }
  }
  field.setCustomValidity(message);
  field.setAttribute("aria-invalid", message ? "true" : "false");
  if (error) {
    error.textContent = message;
    error.hidden = !message;
  }
  return !message;
}

export function initJsonFields(root) {
  for (const field of root.querySelectorAll("[data-json]")) {
    field.addEventListener("input", () => check(field));
    const form = field.form;
    if (form && !form.dataset.jsonChecked) {
      form.dataset.jsonChecked = "1";
      form.noValidate = true;
      form.addEventListener("submit", (event) => {
        let ok = true;
        for (const f of form.querySelectorAll("[data-json]")) ok = check(f) && ok;
        if (!ok || !form.checkValidity()) {
          event.preventDefault();
          event.stopImmediatePropagation();
          form.reportValidity();
        }
      });
    }
  }
}
