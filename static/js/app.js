// qonadmin's small behaviours. No inline scripts anywhere (see the CSP), so they live here.
"use strict";

function listIsBusy() {
  // Do not replace the list under the user's hands: selections, open details, a
  // row action in flight, or the keyboard inside the table.
  const list = document.getElementById("integration-list");
  if (!list) return true;
  const focused = document.activeElement;
  return Boolean(
    list.querySelector("input[name=ids]:checked, [data-select-matching]:checked, tr.details-row, .htmx-request") ||
    (focused && list.contains(focused) && focused.matches("input, select, textarea"))
  );
}

// Poll: the list asks for a refresh every data-poll-seconds, only while the tab is
// visible and the list is not in use, and once when the tab comes back after a while.
(function () {
  let lastPoll = Date.now();
  function periodSeconds() {
    const el = document.querySelector("[data-poll-seconds]");
    return el ? Number(el.dataset.pollSeconds) || 30 : 0;
  }
  function maybePoll() {
    const period = periodSeconds();
    if (!period || document.visibilityState !== "visible" || Date.now() - lastPoll < period * 1000) return;
    if (listIsBusy()) return;
    lastPoll = Date.now();
    document.body.dispatchEvent(new CustomEvent("qonadmin:poll"));
  }
  setInterval(maybePoll, 1000);
  document.addEventListener("visibilitychange", maybePoll);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "integration-list") lastPoll = Date.now();
  });
})();

// The search box asks by itself as the user types; its "change" on blur must not
// make the filter form ask (and push a history entry) a second time.
document.addEventListener("change", function (event) {
  if (event.target.matches("#filters input[name=q]")) event.stopPropagation();
}, true);

// Filters: leave empty fields out of the URL, so shared links stay short.
document.addEventListener("htmx:configRequest", function (event) {
  if (event.detail.verb !== "get" || !event.detail.elt.closest("#filters")) return;
  const params = event.detail.parameters;
  const drop = [];
  const entries = params instanceof FormData ? Array.from(params.entries()) : Object.entries(params);
  entries.forEach(function ([name, value]) {
    if (value === "" || (name === "status" && value === "all")) drop.push(name);
  });
  drop.forEach(function (name) { params instanceof FormData ? params.delete(name) : delete params[name]; });
});

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

// Bulk selection: "select all" ticks the rows of this page; when the list has more pages,
// "Select all N matching" makes the action cover every matching integration (the server
// resolves them from the filters), and unticking any row goes back to the ticked ones.
function updateSelection() {
  const boxes = Array.from(document.querySelectorAll("#integration-rows input[name=ids]"));
  const checked = boxes.filter(function (box) { return box.checked; }).length;
  const all = document.querySelector("[data-select-all]");
  if (all) {
    all.checked = boxes.length > 0 && checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
  }
  const matching = document.querySelector("[data-select-matching]");
  const label = document.querySelector("[data-selected-count]");
  if (!label) return;
  if (matching && matching.checked) label.textContent = "With every matching integration:";
  else label.textContent = checked ? "With " + checked + " selected:" : "With selected:";
}
document.addEventListener("change", function (event) {
  const matching = document.querySelector("[data-select-matching]");
  if (event.target.matches("[data-select-all], [data-select-matching]")) {
    const on = event.target.checked;
    document.querySelectorAll("#integration-rows input[name=ids]").forEach(function (box) { box.checked = on; });
    if (matching && event.target.matches("[data-select-all]") && !on) matching.checked = false;
  } else if (matching && event.target.matches("input[name=ids]") && !event.target.checked) {
    matching.checked = false;
  }
  if (event.target.matches("[data-select-all], [data-select-matching], input[name=ids]")) updateSelection();
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
  updateSelection();
}
document.addEventListener("DOMContentLoaded", function () { enhance(document); });
document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });

// Deleting asks first, naming the integration and its id (built here, not repeated
// in every row's markup).
document.addEventListener("htmx:confirm", function (event) {
  const link = event.detail.elt;
  if (!link.matches || !link.matches("[data-confirm-delete]")) return;
  event.preventDefault();
  const row = link.closest("tr");
  const title = row.querySelector("td.title a").textContent.trim();
  const id = row.dataset.qonversionId;
  const question = "Delete “" + title + "”? Deletion in Qonversion is permanent: it stops forwarding events " +
    "and its id " + id + " is never reused.";
  if (window.confirm(question)) event.detail.issueRequest(true);
});

// Row details: the title toggles a details row below it (Enter works: it is a link).
document.addEventListener("htmx:beforeRequest", function (event) {
  const toggle = event.detail.elt.closest && event.detail.elt.closest("[data-details-toggle]");
  if (!toggle) return;
  const open = document.getElementById(toggle.dataset.detailsToggle);
  if (open) {
    event.preventDefault();
    open.remove();
    toggle.setAttribute("aria-expanded", "false");
  } else {
    toggle.setAttribute("aria-expanded", "true");
  }
});

document.addEventListener("click", function (event) {
  // "Cancel" on the inline create form closes it instead of leaving the page.
  const cancel = event.target.closest("[data-close-panel]");
  const slot = cancel && cancel.closest("#create-slot");
  if (slot) {
    event.preventDefault();
    slot.innerHTML = "";
    const opener = document.querySelector("#create-panel > a");
    if (opener) opener.focus();
    return;
  }
  const closeBulk = event.target.closest("[data-close-bulk]");
  if (closeBulk && closeBulk.closest("#bulk-panel")) {
    event.preventDefault();
    document.getElementById("bulk-panel").innerHTML = "";
    return;
  }
  const closeDetails = event.target.closest("[data-close-details]");
  if (closeDetails) {
    const row = document.getElementById(closeDetails.dataset.closeDetails);
    const toggle = document.querySelector('[data-details-toggle="' + closeDetails.dataset.closeDetails + '"]');
    if (row && row.closest("#integration-rows")) {
      event.preventDefault();
      row.remove();
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    }
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy && navigator.clipboard) {
    navigator.clipboard.writeText(copy.dataset.copy).then(function () {
      copy.textContent = "Copied";
      setTimeout(function () { copy.textContent = "Copy"; }, 1500);
    });
  }
});

// Links styled as buttons (Delete works without JavaScript as a link) answer Space too.
document.addEventListener("keydown", function (event) {
  if (event.key === " " && event.target.matches("a[role=button]")) {
    event.preventDefault();
    event.target.click();
  }
});

// A row replaced by an action takes its open details with it: they would be stale.
document.addEventListener("htmx:beforeSwap", function (event) {
  const target = event.detail.target;
  if (target && target.matches && target.matches("#integration-rows > tr[id^=integration-]")) {
    const details = document.getElementById("details-" + target.id.replace("integration-", ""));
    if (details) details.remove();
  }
});
