// Confirmations (data-confirm), typed confirmations (data-must-equal), pickers that submit on
// change (data-autosubmit) and the add-integration form's per-kind action boxes.
export function initForms(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const input of root.querySelectorAll("[data-must-equal]")) {
    const check = () => input.setCustomValidity(
      input.value === input.dataset.mustEqual ? "" : "Type " + input.dataset.mustEqual + " to confirm");
    input.addEventListener("input", check);
    check();
  }
  for (const form of root.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => {
        // a new workspace resets the integration and action; a new integration the action
        let after = false;
        for (const other of form.querySelectorAll("select")) {
          if (after) other.value = "";
          if (other === select) after = true;
        }
        form.submit();
      });
    }
  }
  for (const form of root.querySelectorAll(".integration-form")) {
    const kind = form.querySelector('select[name="integrationName"]');
    if (!kind) continue;
    const show = () => {
      for (const group of form.querySelectorAll(".actions-of")) {
        group.hidden = group.dataset.kind !== kind.value;
        group.classList.toggle("shown", group.dataset.kind === kind.value);
      }
    };
    kind.addEventListener("change", show);
    show();
  }
}
