// Ops pages: Chart.js charts from data-json attributes, and the scoring-rule form's value box.
// Loaded with `defer` after htmx and Chart.js; no inline handlers (strict CSP).
(function () {
  "use strict";

  var KIND_COLORS = { inbound: "#0d6efd", incentive: "#fd7e14", "": "#adb5bd" };
  var charts = new WeakMap();

  function readData(canvas) {
    // Data sits in a data-json attribute: htmx drops <script> elements (json_script) that it swaps in.
    var source = document.getElementById(canvas.getAttribute("data-source"));
    return source ? JSON.parse(source.getAttribute("data-json")) : null;
  }

  function percentAxis() {
    return { beginAtZero: true, suggestedMax: 100, ticks: { callback: function (v) { return v + "%"; } } };
  }

  var builders = {
    quality: function (data) {
      var q = data.quality;
      return {
        type: "bar",
        data: {
          labels: q.labels,
          datasets: q.datasets.map(function (d) {
            return { label: d.label, data: d.data, backgroundColor: KIND_COLORS[d.kind] || "#6c757d" };
          }),
        },
        options: {
          maintainAspectRatio: false,
          scales: { y: percentAxis() },
          plugins: {
            tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + (c.raw === null ? "—" : c.raw + "%"); } } },
          },
        },
      };
    },
    volume: function (data) {
      var v = data.volume;
      var colors = v.kinds.map(function (k) { return KIND_COLORS[k] || KIND_COLORS[""]; });
      return {
        type: "bar",
        data: {
          labels: v.labels,
          datasets: [
            { label: v.datasets[0].label, data: v.datasets[0].data, backgroundColor: colors.map(function (c) { return c + "99"; }) },
            { label: v.datasets[1].label, data: v.datasets[1].data, backgroundColor: colors },
          ],
        },
        options: { indexAxis: "y", maintainAspectRatio: false, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      };
    },
    funnel: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (d) {
            return { label: d.label, data: d.data, backgroundColor: ["#6ea8fe", "#3d8bfd", "#0d6efd", "#0a58ca", "#198754"] };
          }),
        },
        options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      };
    },
  };

  function drawCharts(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-ops-chart]").forEach(function (canvas) {
      var build = builders[canvas.getAttribute("data-ops-chart")];
      var data = readData(canvas);
      if (!build || !data) return;
      if (charts.has(canvas)) charts.get(canvas).destroy();
      charts.set(canvas, new window.Chart(canvas, build(data)));
    });
  }

  // Scoring rule form: show the value box that fits the chosen field.
  var VALUE_BOX = { size_band: "id_size_band_value", source_kind: "id_source_kind_value" };
  function syncRuleForm(form) {
    var field = form.querySelector("#id_field");
    if (!field) return;
    var wanted = VALUE_BOX[field.value] || "id_value";
    ["id_value", "id_size_band_value", "id_source_kind_value"].forEach(function (id) {
      var input = form.querySelector("#" + id);
      if (input) input.closest(".mb-3").classList.toggle("d-none", id !== wanted);
    });
    var value = form.querySelector("#id_value");
    if (value) value.setAttribute("inputmode", field.value === "recent_activities" ? "numeric" : "text");
  }
  function initRuleForms(root) {
    root.querySelectorAll("form.ops-rule-form").forEach(function (form) {
      syncRuleForm(form);
      if (form.dataset.opsBound) return;
      form.dataset.opsBound = "1";
      form.addEventListener("change", function (event) {
        if (event.target.id === "id_field") syncRuleForm(form);
      });
    });
  }

  function init(root) {
    drawCharts(root);
    initRuleForms(root);
  }

  if (window.htmx) {
    window.htmx.onLoad(function (el) { init(el); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
