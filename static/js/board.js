// Deal board: drag a card to another stage (SortableJS) and post the move through htmx (the server answers with
// out-of-band swaps); a lost stage asks for a reason first (the modal), and a failed move puts the card back.
// Also: stage drag-and-drop on the pipeline admin page.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function showStatus(message, kind) {
    var box = document.getElementById("board-status");
    if (!box) return;
    box.textContent = message;
    box.className = "alert alert-" + (kind || "info");
  }

  // --- the board ---------------------------------------------------------------------------------------------

  var pending = null; // {item, from, oldIndex, stageId, submitted}

  function revert(move) {
    var from = move.from;
    var reference = from.children[move.oldIndex] || null;
    from.insertBefore(move.item, reference);
  }

  function reloadBoard() {
    var form = document.getElementById("board-filters");
    if (form && window.htmx) window.htmx.trigger(form, "submit");
  }

  function errorMessage(xhr) {
    var payload = {};
    try {
      payload = JSON.parse((xhr && xhr.responseText) || "{}") || {};
    } catch (e) {
      payload = {};
    }
    var message = payload.error;
    if (!message && payload.errors) {
      message = Object.keys(payload.errors)
        .map(function (key) {
          return [].concat(payload.errors[key]).join(" ");
        })
        .join(" ");
    }
    return message;
  }

  // The move goes through htmx: the answer is out-of-band swaps only (the moved card with its new version and
  // probability, the totals of both columns, the summary line, the status line), so the request swaps nothing
  // itself. htmx swaps no 4xx answer (its default responseHandling); a refused move puts the card back here.
  function sendMove(move, lostReason) {
    var board = document.getElementById("board");
    var query = board ? board.getAttribute("data-filter-query") : "";
    var url = move.item.getAttribute("data-move-url") + (query ? "?" + query : "");
    var item = move.item;
    var outcome = null;
    function onAfterRequest(evt) {
      if (evt.detail && evt.detail.elt === item) outcome = evt.detail;
    }
    function failed() {
      item.classList.remove("board-card-saving");
      revert(move);
      var xhr = outcome && outcome.xhr;
      if (xhr && xhr.status === 409) {
        showStatus(board.getAttribute("data-error-conflict"), "warning");
        reloadBoard();
        return;
      }
      showStatus(errorMessage(xhr) || board.getAttribute("data-error-generic"), "danger");
    }
    if (!window.htmx) {
      failed();
      return;
    }
    item.classList.add("board-card-saving");
    item.addEventListener("htmx:afterRequest", onAfterRequest);
    window.htmx
      .ajax("POST", url, {
        source: item,
        swap: "none",
        values: {
          stage: move.stageId,
          version: item.getAttribute("data-version"),
          lost_reason: lostReason || "",
        },
      })
      .then(
        function () {
          item.removeEventListener("htmx:afterRequest", onAfterRequest);
          // On success the card was swapped for the server's one; a dropped or refused request leaves it here.
          if (outcome && outcome.successful) {
            item.classList.remove("board-card-saving");
            return;
          }
          failed();
        },
        function () {
          item.removeEventListener("htmx:afterRequest", onAfterRequest);
          failed();
        }
      );
  }

  function askLostReason(move) {
    var modalEl = document.getElementById("lost-modal");
    if (!modalEl || !window.bootstrap) {
      revert(move);
      return;
    }
    pending = move;
    move.submitted = false;
    var input = document.getElementById("lost-modal-reason");
    input.value = "";
    input.classList.remove("is-invalid");
    modalEl.querySelector("[data-lost-deal-name]").textContent = move.item.getAttribute("data-name");
    window.bootstrap.Modal.getOrCreateInstance(modalEl).show();
  }

  function onEnd(evt) {
    if (evt.from === evt.to) return; // order inside a column is not stored
    var move = {
      item: evt.item,
      from: evt.from,
      oldIndex: evt.oldIndex,
      stageId: evt.to.getAttribute("data-stage-id"),
    };
    if (evt.to.getAttribute("data-stage-kind") === "lost") {
      askLostReason(move);
    } else {
      sendMove(move, "");
    }
  }

  function initBoard(root) {
    if (!window.Sortable) return;
    (root || document).querySelectorAll(".board-cards").forEach(function (list) {
      if (list.getAttribute("data-sortable") === "1") return;
      list.setAttribute("data-sortable", "1");
      window.Sortable.create(list, {
        group: "deal-board",
        draggable: ".board-card",
        filter: ".board-card-locked",
        preventOnFilter: false,
        animation: 150,
        ghostClass: "sortable-ghost",
        onEnd: onEnd,
      });
    });
  }

  function initLostModal() {
    var modalEl = document.getElementById("lost-modal");
    var form = document.getElementById("lost-modal-form");
    if (!modalEl || !form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("lost-modal-reason");
      var reason = input.value.trim();
      if (!reason) {
        input.classList.add("is-invalid");
        input.focus();
        return;
      }
      if (!pending) return;
      pending.submitted = true;
      var move = pending;
      window.bootstrap.Modal.getOrCreateInstance(modalEl).hide();
      sendMove(move, reason);
    });
    modalEl.addEventListener("shown.bs.modal", function () {
      document.getElementById("lost-modal-reason").focus();
    });
    // Closing the modal without a reason cancels the move: the card goes back.
    modalEl.addEventListener("hidden.bs.modal", function () {
      if (pending && !pending.submitted) revert(pending);
      pending = null;
    });
  }

  function toggleCustomRange() {
    var select = document.querySelector('#board-filters select[name="close"], #deal-filters select[name="close"]');
    var custom = select && select.value === "custom";
    document.querySelectorAll(".board-custom-range").forEach(function (el) {
      el.classList.toggle("d-none", !custom);
    });
  }

  // --- pipeline admin: drag stages to reorder -------------------------------------------------------------------

  function initStageSort() {
    var list = document.getElementById("stage-rows");
    if (!list || !window.Sortable || list.getAttribute("data-sortable") === "1") return;
    list.setAttribute("data-sortable", "1");
    window.Sortable.create(list, {
      handle: ".stage-handle",
      draggable: ".stage-row",
      animation: 150,
      ghostClass: "sortable-ghost",
      onEnd: function (evt) {
        if (evt.oldIndex === evt.newIndex) return;
        var ids = Array.prototype.map.call(list.querySelectorAll(".stage-row"), function (row) {
          return row.getAttribute("data-stage-id");
        });
        var body = new FormData();
        ids.forEach(function (id) {
          body.append("stages", id);
        });
        fetch(list.getAttribute("data-reorder-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
          body: body,
        }).then(function (response) {
          var status = document.getElementById("stage-status");
          if (response.ok) {
            list.querySelectorAll(".stage-position").forEach(function (el, index) {
              el.textContent = index + 1;
            });
            if (status) {
              status.textContent = status.getAttribute("data-saved");
              status.className = "small text-success";
            }
          } else {
            window.location.reload();
          }
        });
      },
    });
  }

  function init() {
    initBoard(document);
    initLostModal();
    initStageSort();
    toggleCustomRange();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  document.addEventListener("htmx:afterSettle", function () {
    initBoard(document);
    toggleCustomRange();
  });
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "close") toggleCustomRange();
  });
})();
