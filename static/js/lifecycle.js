// Customer success (lifecycle): the monthly flows chart of the lifecycle page and the NPS trend of the CS home.
// Data comes from a data-json attribute of a hidden element; no inline JS (strict CSP).
(function () {
  "use strict";

  var COLORS = {
    new_accounts: "#6c757d",
    new_customers: "#0d6efd",
    onboarded: "#198754",
    churned: "#dc3545",
    came_back: "#fd7e14",
    nps: "#6f42c1",
  };

  function readData(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    return source ? JSON.parse(source.getAttribute("data-json")) : null;
  }

  function barsConfig(data) {
    return {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (d) {
          return { label: d.label, data: d.data, backgroundColor: COLORS[d.key] || "#0d6efd" };
        }),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    };
  }

  function lineConfig(data) {
    return {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.data, borderColor: COLORS.nps, backgroundColor: COLORS.nps,
          spanGaps: true, tension: 0.25 }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { suggestedMin: -100, suggestedMax: 100 } },
        plugins: { legend: { display: false } },
      },
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-lc-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var data = readData(canvas);
      if (!data) return;
      canvas.dataset.drawn = "1";
      var kind = canvas.getAttribute("data-lc-chart");
      new window.Chart(canvas, kind === "line" ? lineConfig(data) : barsConfig(data));
    });
  }

  // Deferred scripts (Chart.js among them) have all run by DOMContentLoaded, whatever their order in the page.
  document.addEventListener("DOMContentLoaded", draw);
})();
