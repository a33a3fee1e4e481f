// qonadmin's small behaviours. No inline scripts anywhere (see the CSP), so they live here.
"use strict";

// Poll: every element with data-poll-seconds asks for a refresh on that period, but only
// while the tab is visible, and once right away when the tab comes back after a while.
(function () {
  let lastPoll = Date.now();
  function periodSeconds() {
    const el = document.querySelector("[data-poll-seconds]");
    return el ? Number(el.dataset.pollSeconds) || 30 : 0;
  }
  function poll() {
    lastPoll = Date.now();
    document.body.dispatchEvent(new CustomEvent("qonadmin:poll"));
  }
  setInterval(function () {
    const period = periodSeconds();
    if (period && document.visibilityState === "visible" && Date.now() - lastPoll >= period * 1000) poll();
  }, 1000);
  document.addEventListener("visibilitychange", function () {
    const period = periodSeconds();
    if (period && document.visibilityState === "visible" && Date.now() - lastPoll >= period * 1000) poll();
  });
})();

// Provider picker: only the platforms the chosen provider accepts stay selectable.
function narrowPlatforms(form) {
  const select = form.querySelector("select[name=provider]");
  if (!select) return;
  const option = select.selectedOptions[0];
  const stores = option && option.dataset.stores ? option.dataset.stores.split(",") : null;
  const hint = form.querySelector("[data-platform-hint]");
  form.querySelectorAll("input[name=platform]").forEach(function (radio) {
    const allowed = !stores || stores.includes(radio.value);
    radio.disabled = !allowed;
    radio.closest("label").classList.toggle("unavailable", !allowed);
    if (!allowed && radio.checked) radio.checked = false;
  });
  if (hint) hint.textContent = stores ? option.textContent + " accepts " + stores.join(", ") + "." : "";
}

document.addEventListener("change", function (event) {
  if (event.target.matches("form.create-form select[name=provider]")) narrowPlatforms(event.target.form);
});

function enhance(root) {
  const forms = Array.from(root.querySelectorAll("form.create-form"));
  if (root.matches && root.matches("form.create-form")) forms.push(root);
  forms.forEach(narrowPlatforms);
  // A freshly opened or re-rendered form gets the keyboard: first invalid field, else Title.
  if (root !== document && forms.length) {
    const target = forms[0].querySelector("[aria-invalid=true] input, [aria-invalid=true]") || forms[0].querySelector("input[name=title]");
    if (target) target.focus();
  }
}
document.addEventListener("DOMContentLoaded", function () { enhance(document); });
document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });

// "Cancel" on the inline form closes it instead of leaving the page.
document.addEventListener("click", function (event) {
  const link = event.target.closest("[data-close-panel]");
  const slot = link && link.closest("#create-slot");
  if (!slot) return;
  event.preventDefault();
  slot.innerHTML = "";
  const opener = document.querySelector("#create-panel > a");
  if (opener) opener.focus();
});
