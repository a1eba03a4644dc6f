// Records area (accounts, contacts): the account picker. No inline handlers (strict CSP).
(function () {
  "use strict";
  function pickerParts(id) {
    return {
      hidden: document.getElementById(id),
      search: document.getElementById(id + "_search"),
      results: document.getElementById(id + "_results"),
    };
  }
  document.addEventListener("click", function (event) {
    var choice = event.target.closest("[data-pick-id]");
    if (choice) {
      var parts = pickerParts(choice.getAttribute("data-pick-target"));
      if (!parts.hidden) return;
      parts.hidden.value = choice.getAttribute("data-pick-id");
      parts.search.value = choice.getAttribute("data-pick-label");
      parts.results.innerHTML = "";
      parts.hidden.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    var clear = event.target.closest("[data-picker-clear]");
    if (clear) {
      var p = pickerParts(clear.getAttribute("data-picker-clear"));
      if (!p.hidden) return;
      p.hidden.value = "";
      p.search.value = "";
      p.results.innerHTML = "";
      p.search.focus();
    }
  });
  // Typing in the search box un-chooses the account until a match is picked again; Enter never submits.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-picker-search]")) event.preventDefault();
  });
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-picker-search]")) return;
    var hidden = document.getElementById(event.target.getAttribute("data-picker-search"));
    if (hidden) hidden.value = "";
  });
})();
