// Export links carry the list's current filters: htmx pushes filter changes into the address bar, so the query
// string is copied onto the link when it is clicked.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-export-link]");
    if (!link) return;
    var url = new URL(link.getAttribute("href"), window.location.href);
    url.search = window.location.search;
    link.setAttribute("href", url.pathname + url.search);
  });
})();
