// Lead pages: inbox bulk actions, the status reason, live duplicate checks, the convert form. No inline handlers
// (strict CSP); everything is delegated from document so htmx-swapped rows keep working.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // --- inbox: bulk actions ---------------------------------------------------------------------------------
  function refreshBulk() {
    var form = $("#bulk-form");
    if (!form) return;
    var ticked = $all("input[data-bulk-id]:checked").length;
    form.classList.toggle("d-none", ticked === 0);
    var count = $("[data-bulk-count]", form);
    if (count) count.textContent = String(ticked);
    var all = $("input[data-check-all]");
    var boxes = $all("input[data-bulk-id]");
    if (all) all.checked = boxes.length > 0 && ticked === boxes.length;
  }

  function refreshBulkAction() {
    var form = $("#bulk-form");
    if (!form) return;
    var action = $("[data-bulk-action]", form).value;
    $all("[data-bulk-for]", form).forEach(function (el) {
      el.classList.toggle("d-none", el.getAttribute("data-bulk-for") !== action);
    });
    var status = $("select[name=status]", form);
    var reason = $("[data-reason-field]", form);
    if (reason) reason.classList.toggle("d-none", action !== "status" || !status || status.value !== "disqualified");
  }

  // --- the status form: a reason when disqualifying ---------------------------------------------------------
  function refreshReason(form) {
    var select = $("select[name=status]", form);
    var box = $("[data-reason-box]", form);
    if (select && box) box.classList.toggle("d-none", select.value !== "disqualified");
  }

  // --- convert: the deal fields follow "no deal", the new-account fields follow the account choice ----------
  function refreshConvert() {
    var form = $(".lead-convert");
    if (!form) return;
    var noDeal = $("input[name=no_deal]", form);
    var deal = $("[data-deal-fields]", form);
    if (noDeal && deal) {
      deal.classList.toggle("opacity-50", noDeal.checked);
      $all("input", deal).forEach(function (el) { el.disabled = noDeal.checked; });
    }
    var chosen = $("input[name=account_choice]:checked", form);
    var fields = $("[data-for-choice=account-new]", form);
    if (fields) {
      var isNew = !chosen || chosen.value === "new";
      fields.classList.toggle("opacity-50", !isNew);
      $all("input", fields).forEach(function (el) { el.disabled = !isNew; });
    }
  }

  // --- live duplicate check on the lead form -----------------------------------------------------------------
  var dupTimer = null;
  function checkDuplicates(form) {
    var url = form.getAttribute("data-dup-url");
    if (!url || !window.htmx) return;
    var params = new URLSearchParams();
    ["email", "phone", "company"].forEach(function (name) {
      var input = form.elements[name];
      if (input && input.value) params.set(name, input.value);
    });
    var glue = url.indexOf("?") === -1 ? "?" : "&";
    window.htmx.ajax("GET", url + glue + params.toString(), { target: "#lead-duplicates", swap: "innerHTML" });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-check-all]")) {
      $all("input[data-bulk-id]").forEach(function (box) { box.checked = target.checked; });
      refreshBulk();
    } else if (target.matches("input[data-bulk-id]")) {
      refreshBulk();
    } else if (target.closest("#bulk-form")) {
      refreshBulkAction();
    }
    if (target.matches("[data-testid=status-form] select[name=status]")) refreshReason(target.form);
    if (target.closest(".lead-convert")) refreshConvert();
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-dup-url]");
    if (!form || ["email", "phone", "company"].indexOf(event.target.name) === -1) return;
    window.clearTimeout(dupTimer);
    dupTimer = window.setTimeout(function () { checkDuplicates(form); }, 400);
  });

  document.addEventListener("htmx:afterSwap", refreshBulk);
  document.addEventListener("DOMContentLoaded", function () {
    refreshBulk();
    refreshBulkAction();
    refreshConvert();
    $all("[data-testid=status-form]").forEach(refreshReason);
  });
})();
