// Date pickers in the page's language (issue 12, "one product"): every <input type=date> and
// <input type=datetime-local> becomes a flatpickr calendar (static/vendor/flatpickr) with the month and weekday
// names of the page's language, Monday first, and the date shown as the pages show dates ("8 Oct 2026",
// "2026年10月8日"): <body {% datepicker_attrs %}> (crm/templatetags/datepicker.py) says which. The input the form
// submits is the original one, now hidden, and keeps the ISO value (YYYY-MM-DD, YYYY-MM-DDTHH:MM), so forms and
// filter bars read what they read before. A person can type the date too, in the shown format or as ISO, and
// clearing the text clears the value. Inputs swapped in by htmx are enhanced as they arrive (htmx:load).
// No inline styles or scripts (strict CSP): flatpickr positions its calendar through element.style (CSSOM).
(function () {
  "use strict";
  if (!window.flatpickr) return;
  var SELECTOR = "input[type=date], input[type=datetime-local], input[data-datepicker-type]";
  var ISO = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2}))?\s*$/;

  function options() {
    var data = document.body.dataset;
    var l10n = window.flatpickr.l10ns[data.datepickerLocale || "en"] || window.flatpickr.l10ns.default;
    var locale = Object.assign({}, l10n, { firstDayOfWeek: Number(data.datepickerFirstDay || 1) });
    return {
      locale: locale,
      dateFormat: data.datepickerDateFormat || "j M Y",
      datetimeFormat: data.datepickerDatetimeFormat || "j M Y H:i",
    };
  }

  // What a person typed: ISO ("2026-12-02", "2026-12-02 14:05") in every language, else the shown format.
  // An impossible date (31 Feb) is no date, rather than the day flatpickr would roll it over to.
  function parser(locale) {
    return function (text, format) {
      var iso = ISO.exec(text);
      if (iso) {
        var date = new Date(+iso[1], +iso[2] - 1, +iso[3], +(iso[4] || 0), +(iso[5] || 0));
        return date.getMonth() === +iso[2] - 1 && date.getDate() === +iso[3] ? date : undefined;
      }
      return window.flatpickr.parseDate(text, format, false, locale);
    };
  }

  // Labels name the text box a person uses: the hidden input's <label for> and aria-label move to it.
  function label(input, labels, shown) {
    var ids = [];
    labels.forEach(function (element, index) {
      if (!element.id) element.id = (input.id || input.name) + "-label" + (index ? "-" + index : "");
      ids.push(element.id);
      element.addEventListener("click", function () { shown.focus(); });
    });
    if (ids.length) shown.setAttribute("aria-labelledby", ids.join(" "));
    ["aria-label", "aria-describedby", "aria-invalid", "title"].forEach(function (name) {
      if (input.hasAttribute(name)) shown.setAttribute(name, input.getAttribute(name));
    });
    input.removeAttribute("aria-label");  // one element by that name: the one a person types in
  }

  // Calendars copied into htmx's history snapshot: no picker behind them.
  function sweep() {
    document.querySelectorAll(".flatpickr-calendar").forEach(function (calendar) {
      if (!calendar._datepicker) calendar.remove();
    });
  }

  // An input restored from htmx's history snapshot (back/forward): hidden, after a copy of its text box. Its value
  // is the one its form last sent (data-datepicker-value): htmx saves the page it leaves when the answer to a
  // change arrives, and a hidden input's value is its HTML, so the snapshot holds the date that was then
  // being asked for, not the one the page showed.
  function revive(input) {
    input.value = input.getAttribute("data-datepicker-value") || "";
    var next = input.nextElementSibling;
    if (next && next.hasAttribute("data-datepicker-shown")) {
      if (next.hasAttribute("aria-label")) input.setAttribute("aria-label", next.getAttribute("aria-label"));
      next.remove();
    }
    input.type = input.getAttribute("data-datepicker-type");
    sweep();
  }

  function enhance(input) {
    if (input._flatpickr) return;
    if (input.hasAttribute("data-datepicker-type")) revive(input);
    var labels = Array.prototype.slice.call(input.labels || []);
    var type = input.getAttribute("data-datepicker-type") || input.type;
    var withTime = type === "datetime-local";
    var settings = options();
    // The text box looks like the input it stands for (Bootstrap's classes).
    var classes = input.className.replace(/\bflatpickr-input\b/, "").trim() || "form-control";
    input.setAttribute("data-datepicker-type", type);
    if (!input.hasAttribute("data-datepicker-value")) input.setAttribute("data-datepicker-value", input.value);
    var picker = window.flatpickr(input, {
      locale: settings.locale,
      enableTime: withTime,
      time_24hr: true,
      dateFormat: withTime ? "Y-m-d\\TH:i" : "Y-m-d",
      altInput: true,
      altInputClass: classes,
      altFormat: withTime ? settings.datetimeFormat : settings.dateFormat,
      allowInput: true,
      disableMobile: true,
      minDate: input.getAttribute("min") || null,
      maxDate: input.getAttribute("max") || null,
      parseDate: parser(settings.locale),
      errorHandler: function () {},  // a typed text that is no date clears the field: nothing to log
    });
    var shown = picker.altInput;
    shown.setAttribute("data-datepicker-shown", "");
    shown.setAttribute("autocomplete", "off");
    picker.calendarContainer._datepicker = picker;
    label(input, labels, shown);
    // Typing fires `input` on the text box, whose value the form does not send: the form hears of the change
    // when the date is set (flatpickr fires input and change on the submitted input), not on every key.
    shown.addEventListener("input", function (event) { event.stopPropagation(); });
  }

  function enhanceAll(root) {
    if (root.matches && root.matches(SELECTOR)) enhance(root);
    if (root.querySelectorAll) Array.prototype.forEach.call(root.querySelectorAll(SELECTOR), enhance);
  }

  enhanceAll(document);
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.target); });
  // Content htmx removes takes its calendars with it.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    if (event.target._flatpickr) event.target._flatpickr.destroy();
  });
  // Once a form's request is answered (and the page it leaves saved), its dates are the ones the page shows.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.target.querySelectorAll) return;
    event.target.querySelectorAll("input[data-datepicker-value]").forEach(function (input) {
      input.setAttribute("data-datepicker-value", input.value);
    });
  });
  // htmx's snapshot of the page for back/forward is its HTML: the calendars would come back with the style
  // attributes flatpickr positions them by, which the CSP refuses (and without their script). They leave the
  // page while the snapshot is taken and come back right after, before anything is drawn.
  document.addEventListener("htmx:beforeHistorySave", function () {
    var calendars = Array.prototype.slice.call(document.querySelectorAll(".flatpickr-calendar"));
    var places = calendars.map(function (calendar) {
      return { calendar: calendar, parent: calendar.parentNode, next: calendar.nextSibling };
    });
    calendars.forEach(function (calendar) { calendar.remove(); });
    Promise.resolve().then(function () {
      places.forEach(function (place) {
        // Not when the page was left for another one (back/forward): its inputs are gone with it.
        var picker = place.calendar._datepicker;
        if (!place.parent || !picker || !picker.input.isConnected) return;
        var next = place.next && place.next.parentNode === place.parent ? place.next : null;
        place.parent.insertBefore(place.calendar, next);
      });
    });
  });
  // Back/forward restores the page from htmx's snapshot of its HTML: pickers without their script.
  document.addEventListener("htmx:historyRestore", function () {
    sweep();
    enhanceAll(document);
  });
})();
