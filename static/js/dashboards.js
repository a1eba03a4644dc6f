// Dashboards (sales_ops): Chart.js charts configured from data-json attributes, filter forms that submit on
// change, and the quotas grid (arrow keys, Enter, pasting a tab-separated block). No inline handlers (strict CSP).
(function () {
  "use strict";

  var COLORS = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#d63384", "#20c997", "#ffc107", "#6c757d"];
  var FUNNEL_COLORS = ["#9ec5fe", "#6ea8fe", "#3d8bfd", "#0d6efd", "#198754"];

  function readData(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-source"));
    return source ? JSON.parse(source.getAttribute("data-json")) : null;
  }

  function formatNumber(value) {
    if (value === null || value === undefined) return "—";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
  }

  // A funnel: horizontal bars centred on one axis (floating bars from -v/2 to v/2), widest at the top.
  function funnelConfig(chart) {
    var values = chart.values.map(function (v) { return v === null ? 0 : v; });
    var max = Math.max.apply(null, values.concat([1]));
    return {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: [{
          label: chart.title,
          data: values.map(function (v) { return [-v / 2, v / 2]; }),
          backgroundColor: FUNNEL_COLORS,
          borderSkipped: false,
          barPercentage: 0.95,
          categoryPercentage: 1.0,
        }],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        scales: {
          x: { display: false, min: -max / 2 * 1.05, max: max / 2 * 1.05 },
          y: { grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (c) {
                var text = formatNumber(chart.values[c.dataIndex]);
                var before = chart.previous ? chart.previous[c.dataIndex] : null;
                return before === null || before === undefined ? text : text + " (" + formatNumber(before) + ")";
              },
            },
          },
        },
      },
      plugins: [{
        id: "funnelLabels",
        afterDatasetsDraw: function (instance) {
          var ctx = instance.ctx;
          var meta = instance.getDatasetMeta(0);
          ctx.save();
          ctx.font = "600 13px system-ui, sans-serif";
          ctx.textAlign = "center";
          ctx.textBaseline = "middle";
          meta.data.forEach(function (bar, index) {
            ctx.fillStyle = index < 2 ? "#052c65" : "#ffffff";
            ctx.fillText(formatNumber(chart.values[index]), instance.scales.x.getPixelForValue(0), bar.y);
          });
          ctx.restore();
        },
      }],
    };
  }

  function seriesConfig(kind, chart) {
    var horizontal = kind === "hbars";
    return {
      type: kind === "line" ? "line" : "bar",
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map(function (d, i) {
          return {
            label: d.label,
            data: d.data,
            borderColor: COLORS[i % COLORS.length],
            backgroundColor: kind === "line" ? COLORS[i % COLORS.length] : COLORS[i % COLORS.length] + "cc",
            spanGaps: false,
            tension: 0.2,
          };
        }),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        scales: horizontal ? { x: { beginAtZero: true } } : {
          y: {
            beginAtZero: true,
            ticks: chart.percent ? { callback: function (v) { return v + "%"; } } : {},
          },
        },
        plugins: {
          legend: { display: chart.datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (c) {
                var v = c.raw === null ? "—" : formatNumber(c.raw) + (chart.percent ? "%" : "");
                return c.dataset.label + ": " + v;
              },
            },
          },
        },
      },
    };
  }

  function drawCharts(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var data = readData(canvas);
      if (!data) return;
      var kind = canvas.getAttribute("data-chart");
      var config = null;
      if (kind === "funnel") {
        var funnel = data.funnels[Number(canvas.getAttribute("data-index"))];
        if (funnel) config = funnelConfig(funnel);
      } else {
        var chart = data[canvas.getAttribute("data-key")];
        if (chart) config = seriesConfig(kind, chart);
      }
      if (!config) return;
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, config);
    });
  }

  // Filter forms submit when a picker changes; a changed segment clears its value.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (!form) return;
    var clears = event.target.getAttribute("data-clears");
    if (clears && form.elements[clears]) form.elements[clears].value = "";
    form.requestSubmit ? form.requestSubmit() : form.submit();
  });

  // Quotas grid: move with arrow keys / Enter, paste a spreadsheet block from the focused cell.
  function cellAt(grid, row, col) {
    return grid.querySelector('input[data-row="' + row + '"][data-col="' + col + '"]');
  }

  function moveFrom(input, dRow, dCol) {
    var grid = input.closest("[data-quota-grid]");
    var row = Number(input.dataset.row);
    var col = Number(input.dataset.col);
    // Rows the member may not edit have no inputs: skip over them.
    for (var step = 1; step < 200; step++) {
      var target = cellAt(grid, row + dRow * step, col + dCol * step);
      if (target) { target.focus(); target.select(); return true; }
      if (dCol !== 0) return false;
      if (row + dRow * step < 0 || row + dRow * step > 500) return false;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-quota-grid] input.quota-cell")) return;
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], Enter: [1, 0] };
    if (event.key in moves) {
      event.preventDefault();
      moveFrom(input, moves[event.key][0], moves[event.key][1]);
      return;
    }
    var atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    var atEnd = input.selectionStart === input.value.length && input.selectionEnd === input.value.length;
    var whole = input.selectionStart === 0 && input.selectionEnd === input.value.length;
    if (event.key === "ArrowLeft" && (atStart || whole)) {
      if (moveFrom(input, 0, -1)) event.preventDefault();
    } else if (event.key === "ArrowRight" && (atEnd || whole)) {
      if (moveFrom(input, 0, 1)) event.preventDefault();
    }
  });

  document.addEventListener("paste", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-quota-grid] input.quota-cell")) return;
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (text.indexOf("\t") === -1 && text.indexOf("\n") === -1) return;  // one value: the normal paste
    event.preventDefault();
    var grid = input.closest("[data-quota-grid]");
    var row0 = Number(input.dataset.row);
    var col0 = Number(input.dataset.col);
    var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    var row = row0;
    lines.forEach(function (line) {
      // The next editable row (rows without inputs are read only for this member).
      while (row < row0 + 500 && !cellAt(grid, row, col0)) row++;
      line.split("\t").forEach(function (value, i) {
        var cell = cellAt(grid, row, col0 + i);
        if (cell) {
          cell.value = value.trim().replace(/[^0-9.,\-]/g, "").replace(/,/g, "");
          cell.classList.add("is-pasted");
        }
      });
      row++;
    });
  });

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
