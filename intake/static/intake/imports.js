/* The import page's live progress: poll the import's progress address and move the bar (rows done out of
   the total) until the import has finished, then reload to show its summary. Without this file the page
   reloads itself every few seconds (a <noscript> refresh). No inline script: the CSP forbids it. */
(function () {
  "use strict";
  document.querySelectorAll("[data-import-progress]").forEach(function (box) {
    var url = box.getAttribute("data-import-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var status = document.querySelector("[data-import-status]");
    var started = Date.now();
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          if (state.rows_total) {
            bar.max = state.rows_total;
            bar.value = Math.min(state.rows_done, state.rows_total);
          }
          if (text && state.text) text.textContent = state.text;
          if (status && state.label) {
            status.textContent = state.label;
            status.className = "status status-" + state.status;
          }
          if (state.finished) { window.location.reload(); return; }
          setTimeout(poll, Date.now() - started > 120000 ? 3000 : 700);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 300);
  });
})();
