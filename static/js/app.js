/* Progressive enhancement for the server-rendered pages. Every page works without this file;
   with it: searchable place/party pickers, drafts that save as you type, confirmations,
   several uploads at once with progress, live progress of long-running work, a local draft of
   every form (and a warning before leaving unsaved changes), one-time form tokens that survive the
   Back button, focus on the first error, and copy buttons.
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
            form.dispatchEvent(new CustomEvent("autosaved"));
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

  /* 6. No lost work: every form keeps a local draft in this browser (localStorage) while it is being
     filled in, offers it back after a crash or a closed tab, warns before leaving unsaved changes, and
     forgets the draft once the form is sent. Left out: passwords, files, hidden fields, and anything
     marked data-no-draft (a witness's identity never goes into the browser's storage). */
  var storage = null;
  try { storage = window.localStorage; storage.setItem("draft-probe", "1"); storage.removeItem("draft-probe"); } catch (e) { storage = null; }
  var leaving = false;
  var unsaved = [];

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.hasAttribute("data-no-draft")) return false;
      var type = (field.type || "").toLowerCase();
      if (["password", "file", "hidden", "submit", "button", "reset"].indexOf(type) !== -1) return false;
      return field.name !== "csrfmiddlewaretoken" && field.name !== "form_token";
    });
  }
  function snapshot(form) {
    var values = {};
    draftFields(form).forEach(function (field) {
      var type = (field.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (field.checked) (values[field.name] = values[field.name] || []).push(field.value);
        else values[field.name] = values[field.name] || [];
      } else if (field.multiple) {
        values[field.name] = Array.prototype.filter.call(field.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
      } else {
        values[field.name] = [field.value];
      }
    });
    return values;
  }
  function restore(form, values) {
    draftFields(form).forEach(function (field) {
      var saved = values[field.name];
      if (!saved) return;
      var type = (field.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") field.checked = saved.indexOf(field.value) !== -1;
      else if (field.multiple) Array.prototype.forEach.call(field.options, function (o) { o.selected = saved.indexOf(o.value) !== -1; });
      else field.value = saved[0] || "";
    });
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function enhanceDraft(form, index) {
    if (form.hasAttribute("data-no-draft") || (form.method || "").toLowerCase() !== "post") return;
    if (!draftFields(form).length) return;  // a button-only form (submit, delete) holds no work
    var key = "draft:" + window.location.pathname + ":" + (form.getAttribute("action") || "") + ":" + index;
    var initial = snapshot(form);
    var state = { dirty: false };
    unsaved.push(state);
    var saved = null;
    if (storage) { try { saved = JSON.parse(storage.getItem(key) || "null"); } catch (e) { saved = null; } }
    if (saved && saved.values && !same(saved.values, initial)) {
      var note = document.createElement("div");
      note.className = "callout draft-restored";
      note.setAttribute("role", "status");
      var words = document.createElement("span");
      words.textContent = text("draft-restored", "Your unsaved changes from this browser were put back.") + " ";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "link";
      discard.textContent = text("draft-discard", "Discard them");
      note.appendChild(words); note.appendChild(discard);
      form.insertBefore(note, form.firstChild);
      restore(form, saved.values);
      state.dirty = true;
      discard.addEventListener("click", function () {
        restore(form, initial);
        storage.removeItem(key);
        state.dirty = false;
        note.parentNode.removeChild(note);
      });
    }
    var timer = null;
    function remember() {
      state.dirty = !same(snapshot(form), initial);
      if (!storage) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () {
        try {
          if (state.dirty) storage.setItem(key, JSON.stringify({ values: snapshot(form), at: Date.now() }));
          else storage.removeItem(key);
        } catch (e) { /* storage full or refused: the warning before leaving still protects the work */ }
      }, 300);
    }
    form.addEventListener("input", remember);
    form.addEventListener("change", remember);
    // A draft saved on the server in the background (section 2) is no longer unsaved work.
    form.addEventListener("autosaved", function () {
      if (timer) clearTimeout(timer);
      initial = snapshot(form);
      state.dirty = false;
      if (storage) storage.removeItem(key);
    });
    form.addEventListener("submit", function () {
      leaving = true;
      if (timer) clearTimeout(timer);
      // Sent: the server has the work now (and shows it back with any errors), so the draft goes.
      if (storage) storage.removeItem(key);
      state.dirty = false;
    });
  }
  document.querySelectorAll("main form").forEach(enhanceDraft);
  window.addEventListener("beforeunload", function (event) {
    if (leaving || !unsaved.some(function (state) { return state.dirty; })) return;
    event.preventDefault();
    event.returnValue = "";
  });
  // Signing out forgets every draft kept in this browser.
  document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
    form.addEventListener("submit", function () {
      leaving = true;
      if (!storage) return;
      Object.keys(storage).forEach(function (name) { if (name.indexOf("draft:") === 0 || name.indexOf("formtoken:") === 0) storage.removeItem(name); });
    });
  });

  /* 7. Back + Save creates nothing new: a form's one-time token is kept for this page in this tab, and a
     page reached again with the Back button sends the same token, so the server answers with the record
     the first send created instead of creating another. A page opened afresh gets a fresh token. */
  var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  var cameBack = navigation && navigation.type === "back_forward";
  var session = null;
  try { session = window.sessionStorage; } catch (e) { session = null; }
  if (session) {
    document.querySelectorAll("input[name=form_token]").forEach(function (input, index) {
      var key = "formtoken:" + window.location.pathname + ":" + index;
      var kept = session.getItem(key);
      if (cameBack && kept) input.value = kept;
      else session.setItem(key, input.value);
    });
  }

  /* 8. Forms with errors: focus moves to the first field in error (every error is shown at once). */
  var firstInvalid = document.querySelector("main [aria-invalid=true]");
  var alertBox = document.querySelector("main .form-errors, main [role=alert]");
  if (firstInvalid) firstInvalid.focus();
  else if (alertBox) { alertBox.setAttribute("tabindex", "-1"); alertBox.focus(); }

  /* 9. Copy buttons (hashes): the text of the element named by data-copy. */
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.innerHTML;
    button.addEventListener("click", function () {
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) return;
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied") || "Copied";
        setTimeout(function () { button.innerHTML = label; }, 2000);
      });
    });
  });
})();
