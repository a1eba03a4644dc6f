// Own JavaScript: small, no inline handlers (strict CSP). htmx sends the CSRF header set on <body>.
(function () {
  "use strict";
  // Keyboard: "/" focuses the first search box on the page.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.target.closest("input, textarea, select, [contenteditable]")) return;
    var search = document.querySelector("input[type=search]");
    if (search) { event.preventDefault(); search.focus(); }
  });
  // Elements with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
// Global search in the top bar: "/" or Ctrl/Cmd+K focuses it; results come as you type (htmx, debounced);
// arrow keys move through them, Enter opens the chosen one (with none chosen the form opens the results page),
// Escape closes the list.
(function () {
  "use strict";
  function box() { return document.querySelector("[data-global-search]"); }
  function menu(form) { return form.querySelector(".app-search-results"); }
  function options(form) { return Array.prototype.slice.call(menu(form).querySelectorAll(".app-search-option")); }
  function setOpen(form, open) {
    var list = menu(form);
    var input = form.querySelector("input[name=q]");
    list.classList.toggle("show", open && list.children.length > 0);
    input.setAttribute("aria-expanded", list.classList.contains("show") ? "true" : "false");
  }
  function choose(form, index) {
    var items = options(form);
    items.forEach(function (item, i) { item.classList.toggle("active", i === index); item.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (items[index]) items[index].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    var form = box();
    if (!form) return;
    var input = form.querySelector("input[name=q]");
    var shortcut = (event.key === "k" || event.key === "K") && (event.ctrlKey || event.metaKey);
    if (shortcut || (event.key === "/" && !event.target.closest("input, textarea, select, [contenteditable]"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      input.focus();
      input.select();
      setOpen(form, true);
      return;
    }
    if (event.target !== input) return;
    var items = options(form);
    var current = items.findIndex(function (item) { return item.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!items.length) return;
      event.preventDefault();
      setOpen(form, true);
      var step = event.key === "ArrowDown" ? 1 : -1;
      choose(form, (current + step + items.length) % items.length);
    } else if (event.key === "Enter" && current >= 0 && menu(form).classList.contains("show")) {
      event.preventDefault();
      window.location.assign(items[current].getAttribute("href"));
    } else if (event.key === "Escape" && menu(form).classList.contains("show")) {
      // The first Escape closes the list and keeps the text (a search box would clear it), a second clears it.
      event.preventDefault();
      setOpen(form, false);
      choose(form, -1);
    }
  }, true);
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = box();
    if (form && event.target === menu(form)) {
      choose(form, -1);
      setOpen(form, document.activeElement === form.querySelector("input[name=q]"));
    }
  });
  document.addEventListener("focusin", function (event) {
    var form = box();
    if (form && form.contains(event.target)) setOpen(form, true);
  });
  document.addEventListener("click", function (event) {
    var form = box();
    if (form && !form.contains(event.target)) setOpen(form, false);
  });
})();
