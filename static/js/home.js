// Home: open pipeline by stage (Chart.js). Data comes from a json_script element; no inline JS (CSP).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("home-stage-chart");
    var source = document.getElementById("home-stage-data");
    if (!canvas || !source || !window.Chart) return;
    var rows = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.label + " (" + r.count + ")"; }),
        datasets: [
          { label: canvas.dataset.labelAmount, data: rows.map(function (r) { return r.amount; }), backgroundColor: "#9ec5fe" },
          { label: canvas.dataset.labelWeighted, data: rows.map(function (r) { return r.weighted; }), backgroundColor: "#0d6efd" }
        ]
      },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
    });
  });
})();
