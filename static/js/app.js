/* Progressive enhancement for the server-rendered pages. Every page works without this file;
   with it: searchable place/party pickers, drafts that save as you type, confirmations,
   several uploads at once with progress, and live progress of long-running work.
   Loaded from our own origin with `defer`; no inline scripts or styles (CSP without unsafe-inline).
   Translated messages come from data- attributes on <body>, rendered by Django. */
(function () {
  "use strict";

  var body = document.body;
  function text(name, fallback) {
    return (body && body.getAttribute("data-i18n-" + name)) || fallback;
  }
  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function fold(value) {
    // Case-insensitive, and Arabic letters compared without diacritics or hamza forms.
    return value.toLowerCase()
      .replace(/[\u064B-\u065F\u0670]/g, "")
      .replace(/[\u0622\u0623\u0625]/g, "\u0627")
      .replace(/\u0629/g, "\u0647")
      .replace(/\u00a0/g, " ").trim();
  }

  /* 1. Searchable selects: a search box that filters a long tree of places or parties. */
  function enhanceSelect(select) {
    var search = document.createElement("input");
    search.type = "search";
    search.className = "select-search";
    search.setAttribute("aria-label", text("search", "Search") + ": " + (select.labels && select.labels[0] ? select.labels[0].textContent.trim() : ""));
    search.placeholder = text("search", "Search") + "…";
    search.setAttribute("aria-controls", select.id);
    search.setAttribute("dir", "auto");
    select.parentNode.insertBefore(search, select);
    var options = Array.prototype.slice.call(select.options);
    search.addEventListener("input", function () {
      var query = fold(search.value);
      var firstMatch = null;
      options.forEach(function (option) {
        var match = !query || option.value === "" || fold(option.textContent).indexOf(query) !== -1;
        option.hidden = !match;
        option.disabled = !match && !option.selected;
        if (match && option.value !== "" && !firstMatch) firstMatch = option;
      });
      if (query && firstMatch && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden || select.value === "")) {
        select.value = firstMatch.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  }
  document.querySelectorAll("select[data-searchable]").forEach(enhanceSelect);

  /* 2. Drafts save as you go: the form posts itself in the background after a pause in typing. */
  function enhanceAutosave(form) {
    var status = form.querySelector("[data-autosave-status]");
    var timer = null;
    var inFlight = null;
    var dirty = false;
    function show(message, isError) {
      if (!status) return;
      status.textContent = message;
      status.classList.toggle("error", !!isError);
    }
    function save() {
      timer = null;
      if (!dirty) return Promise.resolve();
      if (form.checkValidity && !form.checkValidity()) {
        // Required fields still empty: nothing the server could save yet, so don't ask it.
        show(text("incomplete", "Not saved yet: fill in the required fields."));
        return Promise.resolve();
      }
      dirty = false;
      show(text("saving", "Saving…"));
      inFlight = fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Autosave": "1", "X-CSRFToken": csrfToken(form), "Accept": "application/json", "Accept-Language": document.documentElement.lang || "en" },
        credentials: "same-origin",
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (result) {
          if (response.ok && result.saved) {
            if (result.url && form.getAttribute("action") !== result.url) {
              form.setAttribute("action", result.url);
              if (window.history && window.history.replaceState) window.history.replaceState(null, "", result.url);
            }
            show(text("saved", "Draft saved at") + " " + result.saved_at);
          } else if (response.status === 400) {
            show(text("incomplete", "Not saved yet: fill in the required fields."));
          } else {
            show(result.error || text("save-failed", "Could not save the draft."), true);
          }
        });
      }).catch(function () {
        dirty = true;
        show(text("offline", "Not saved: no connection. Your text stays on this page."), true);
      }).then(function () { inFlight = null; });
      return inFlight;
    }
    function schedule() {
      dirty = true;
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, 1500);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function (event) {
      if (timer) { clearTimeout(timer); timer = null; }
      if (inFlight) {
        // Let a background save finish first, so the explicit save goes to the same draft.
        event.preventDefault();
        inFlight.then(function () { form.submit(); });
      }
    });
  }
  document.querySelectorAll("form[data-autosave]").forEach(enhanceAutosave);

  /* 3. Confirm destructive actions. */
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  /* 4. Several files at once, each with its own progress bar, through the media API. */
  function enhanceUpload(form) {
    var input = form.querySelector("input[type=file]");
    var list = form.querySelector("[data-upload-progress]");
    var summary = form.querySelector("[data-upload-status]");
    if (!input || !list) return;
    form.addEventListener("submit", function (event) {
      if (!input.files || !input.files.length || !window.XMLHttpRequest) return;
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      var failures = 0;
      list.textContent = "";
      // One row per file, all shown at once; sent one after another (kinder to a slow link).
      var rows = files.map(function (file) {
        var item = document.createElement("li");
        var name = document.createElement("bdi");
        name.textContent = file.name;
        var bar = document.createElement("progress");
        bar.max = 100; bar.value = 0;
        bar.setAttribute("aria-label", file.name);
        var note = document.createElement("span");
        note.className = "upload-note";
        item.appendChild(name); item.appendChild(document.createTextNode(" ")); item.appendChild(bar);
        item.appendChild(document.createTextNode(" ")); item.appendChild(note);
        list.appendChild(item);
        return { file: file, bar: bar, note: note };
      });
      function reasonOf(request) {
        try {
          var body = JSON.parse(request.responseText);
          if (body.detail) return String(body.detail);
          return Object.keys(body).map(function (key) { return [].concat(body[key]).join(" "); }).join(" ");
        } catch (e) { return ""; }
      }
      function send(index) {
        if (index >= rows.length) {
          if (summary) summary.textContent = failures ? text("some-failed", "Some files were not uploaded.") : text("all-uploaded", "All files uploaded. Thumbnails appear when ready.");
          if (!failures) setTimeout(function () { window.location.reload(); }, 800);
          return;
        }
        var row = rows[index];
        var data = new FormData();
        data.append("file", row.file);
        form.querySelectorAll("input[type=hidden], textarea, input[type=text]").forEach(function (field) {
          if (field.name && field.name !== "csrfmiddlewaretoken") data.append(field.name, field.value);
        });
        var request = new XMLHttpRequest();
        request.open("POST", form.getAttribute("data-upload-url"));
        request.setRequestHeader("X-CSRFToken", csrfToken(form));
        request.setRequestHeader("Accept", "application/json");
        // The API answers in the page's language (its reasons are shown to the user as they are).
        request.setRequestHeader("Accept-Language", document.documentElement.lang || "en");
        request.upload.addEventListener("progress", function (progress) {
          if (progress.lengthComputable) row.bar.value = Math.round((progress.loaded / progress.total) * 100);
        });
        request.addEventListener("loadend", function () {
          if (request.status >= 200 && request.status < 300) {
            row.bar.value = 100;
            row.note.textContent = text("uploaded", "Uploaded");
          } else {
            failures += 1;
            var label = request.status === 415 ? text("unsupported", "This file type is not accepted.")
              : request.status === 413 ? text("too-large", "This file is too large.")
              : text("upload-failed", "Upload failed.");
            var reason = reasonOf(request);
            row.bar.value = 0;
            row.note.textContent = reason ? "" : label;
            if (reason) {
              // The server's reason names file types (text/html, JPEG …): isolate it for mixed directions.
              var detail = document.createElement("bdi");
              detail.textContent = reason;
              row.note.appendChild(detail);
            }
            row.note.className = "upload-note error";
          }
          send(index + 1);
        });
        request.send(data);
      }
      send(0);
    });
  }
  document.querySelectorAll("form[data-upload-url]").forEach(enhanceUpload);

  /* 5. Live progress: poll a JSON address until the work is finished, then show the result. */
  document.querySelectorAll("[data-poll-url]").forEach(function (element) {
    var url = element.getAttribute("data-poll-url");
    var output = element.querySelector("[data-poll-status]");
    var started = Date.now();
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          if (output && state.label) output.textContent = state.label;
          if (state.finished) { window.location.reload(); return; }
          setTimeout(poll, Date.now() - started > 60000 ? 5000 : 1000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 800);
  });
})();
