// The dashboard's behaviour: the step editor's live check, the run form, the live timeline,
// result tabs and citation highlighting. Plain JavaScript, no build step.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
const TERMINAL = new Set(["completed", "completed_with_errors", "failed", "cancelled"]);

// -- step editor: the server checks the steps as the user types --------------------------
const STEP_TEMPLATES = {
  convert: { type: "convert", settings: { output_format: "markdown,json" } },
  segment: { type: "segment", settings: { segmentation_schema: { Invoice: "An invoice" } } },
  extract: {
    type: "extract",
    settings: { page_schema: { type: "object", properties: { title: { type: "string" } } } },
  },
  custom: { type: "custom", custom_processor_id: "cp_…", settings: {} },
  fill: { type: "fill", settings: {} },
};

function initEditor(editor) {
  const input = editor.querySelector("textarea");
  const out = editor.querySelector(".check");
  let timer = null;
  let sent = 0;
  const show = (ok, text) => {
    out.textContent = text;
    out.className = "check " + (ok ? "ok" : "error");
    input.setAttribute("aria-invalid", ok ? "false" : "true");
  };
  const check = async () => {
    let steps;
    try {
      steps = JSON.parse(input.value);
    } catch (err) {
      show(false, "Not valid JSON: " + err.message);
      return;
    }
    const mine = ++sent;
    try {
      const response = await fetch("/ui/api/check-steps", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(steps),
        credentials: "same-origin",
      });
      if (mine !== sent) return; // a newer check is on its way
      const body = await response.json();
      if (!response.ok) show(false, body.detail || "The check failed (" + response.status + ").");
      else if (body.ok) show(true, "✓ " + body.steps.map((s) => s.type).join(" → ") + ": valid");
      else show(false, body.error);
    } catch (err) {
      show(false, "Could not reach the server: " + err.message);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  editor.querySelectorAll("[data-add-step]").forEach((button) =>
    button.addEventListener("click", () => {
      let steps = [];
      try {
        steps = JSON.parse(input.value);
      } catch (err) {
        show(false, "Fix the JSON before adding a step.");
        return;
      }
      if (!Array.isArray(steps)) steps = steps.steps || [];
      steps.push(STEP_TEMPLATES[button.dataset.addStep]);
      input.value = JSON.stringify(steps, null, 2);
      check();
    })
  );
  check();
}

// -- run form: upload the document to the API, then open the execution ------------------
function initRunForm(form) {
  const error = form.querySelector("#run-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    const data = new FormData(form);
    for (const [name, value] of [...data.entries()]) if (value === "") data.delete(name);
    try {
      const response = await fetch(form.dataset.runForm, {
        method: "POST",
        body: data,
        headers: { "X-CSRF-Token": csrfToken() },
        credentials: "same-origin",
      });
      const body = await response.json();
      if (!response.ok) {
        const detail = Array.isArray(body.detail)
          ? body.detail.map((d) => d.msg).join("; ")
          : body.detail;
        throw new Error(detail || "HTTP " + response.status);
      }
      window.location.assign("/ui/executions/" + body.execution_id);
    } catch (err) {
      error.textContent = "The run was refused: " + err.message;
      button.disabled = false;
    }
  });
}

// -- live timeline: the event stream when the server has one, else polling --------------
function duration(started, finished) {
  if (!started) return "";
  const end = finished ? Date.parse(finished) : Date.now();
  const seconds = Math.max(0, (end - Date.parse(started)) / 1000);
  return seconds < 60 ? seconds.toFixed(2) + " s" : (seconds / 60).toFixed(1) + " min";
}

function progressText(progress) {
  if (!progress) return "";
  if (progress.pages_total) {
    return (progress.stage ? progress.stage + " " : "") + progress.pages_done + "/" + progress.pages_total + " pages";
  }
  return progress.stage || "";
}

function renderDurations(table) {
  table.querySelectorAll("td.c-duration").forEach((cell) => {
    cell.textContent = duration(cell.dataset.started, cell.dataset.finished);
  });
}

function renderExecution(table, execution) {
  const badge = document.getElementById("execution-status");
  badge.textContent = execution.status;
  badge.className = "status status-" + execution.status;
  for (const step of execution.steps) {
    const row = table.querySelector('tr[data-step="' + step.step_index + '"]');
    if (!row) continue;
    row.className = "step-" + step.status;
    const status = row.querySelector(".c-status span");
    status.textContent = step.status;
    status.className = "status status-" + step.status;
    row.querySelector(".c-attempt").textContent =
      step.attempt + (step.attempt > 1 ? " (retried)" : "");
    row.querySelector(".c-cache").textContent = (step.cache && step.cache.status) || "";
    const cell = row.querySelector(".c-duration");
    cell.dataset.started = step.started_at || "";
    cell.dataset.finished = step.finished_at || "";
    row.querySelector(".c-progress").textContent = progressText(step.progress);
    row.querySelector(".c-error").textContent = step.error_message || "";
  }
  renderDurations(table);
  renderGantt(execution);
}

function renderGantt(execution) {
  // One row per step: its name, and a bar from its start to its end (or now) on a common scale.
  const gantt = document.getElementById("gantt");
  if (!gantt) return;
  const starts = execution.steps.filter((s) => s.started_at).map((s) => Date.parse(s.started_at));
  if (!starts.length) return;
  const t0 = Math.min(...starts);
  const endOf = (s) => (s.finished_at ? Date.parse(s.finished_at) : Date.now());
  const span = Math.max(1, ...execution.steps.filter((s) => s.started_at).map((s) => endOf(s) - t0));
  gantt.replaceChildren(
    ...execution.steps.map((s) => {
      const row = document.createElement("div");
      row.className = "row";
      const label = document.createElement("span");
      label.textContent = s.step_index + " " + s.step_type;
      const track = document.createElement("div");
      track.className = "track";
      if (s.started_at) {
        const bar = document.createElement("div");
        bar.className = "bar status-" + s.status;
        const start = Date.parse(s.started_at) - t0;
        bar.style.left = (100 * start) / span + "%";
        bar.style.width = Math.max(0.5, (100 * (endOf(s) - t0 - start)) / span) + "%";
        track.append(bar);
      }
      row.append(label, track);
      return row;
    })
  );
}

function initTimeline(table) {
  const id = table.dataset.executionId;
  const mode = document.getElementById("timeline-mode");
  const url = "/api/v1/pipelines/executions/" + encodeURIComponent(id);
  renderDurations(table);
  if (table.dataset.terminal === "true") {
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((body) => body && renderGantt(body));
    return;
  }
  let finished = false;
  let inFlight = false;
  let again = false;
  const refresh = async () => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) {
        const body = await response.json();
        renderExecution(table, body);
        if (TERMINAL.has(body.status) && !finished) {
          finished = true;
          window.location.reload(); // the results are rendered by the server
        }
      }
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  };
  const ticker = setInterval(() => renderDurations(table), 250);
  const poll = () => {
    mode.textContent = "(polling every second)";
    const timer = setInterval(() => (finished ? clearInterval(timer) : refresh()), 1000);
    refresh();
  };
  if (!("EventSource" in window)) return poll();
  let opened = false;
  const source = new EventSource(url + "/events", { withCredentials: true });
  source.onopen = () => {
    opened = true;
    mode.textContent = "(live)";
    refresh();
  };
  const onEvent = (event) => {
    refresh();
    if (event.type.startsWith("execution.")) source.close();
  };
  for (const type of [
    "step.dispatched", "step.started", "step.progress", "step.completed", "step.failed",
    "step.retrying", "execution.completed", "execution.failed", "execution.cancelled",
  ]) source.addEventListener(type, onEvent);
  source.onmessage = onEvent;
  source.onerror = () => {
    if (!opened || source.readyState === EventSource.CLOSED) {
      // No event stream here (an older server answers 404), or it is gone: poll instead.
      source.close();
      if (!finished) poll();
    }
  };
  window.addEventListener("beforeunload", () => {
    clearInterval(ticker);
    source.close();
  });
}

// -- result viewers: tabs, and each extracted value's citations on the page -------------
function initViewer(section) {
  const tabs = section.querySelectorAll("[data-tab]");
  const panes = section.querySelectorAll("[data-pane]");
  const select = (name) => {
    tabs.forEach((t) => t.classList.toggle("active", t.dataset.tab === name));
    panes.forEach((p) => (p.hidden = p.dataset.pane !== name));
  };
  tabs.forEach((t) => t.addEventListener("click", () => select(t.dataset.tab)));
  if (tabs.length) select(tabs[0].dataset.tab);
  section.querySelectorAll(".box").forEach((box) => {
    for (const side of ["left", "top", "width", "height"]) box.style[side] = box.dataset[side] + "%";
  });
  const highlight = (field, on) => {
    section.querySelectorAll('.box[data-field="' + field + '"]').forEach((b) => b.classList.toggle("on", on));
    section.querySelectorAll('tr.field[data-field="' + field + '"]').forEach((r) => r.classList.toggle("on", on));
  };
  section.querySelectorAll("tr.field").forEach((row) => {
    const field = row.dataset.field;
    row.addEventListener("mouseenter", () => highlight(field, true));
    row.addEventListener("mouseleave", () => highlight(field, false));
    row.addEventListener("focus", () => highlight(field, true));
    row.addEventListener("blur", () => highlight(field, false));
    row.addEventListener("click", () => {
      const box = section.querySelector('.box[data-field="' + field + '"]');
      if (box) box.scrollIntoView({ block: "center", behavior: "smooth" });
    });
  });
  section.querySelectorAll(".box").forEach((box) => {
    box.addEventListener("mouseenter", () => highlight(box.dataset.field, true));
    box.addEventListener("mouseleave", () => highlight(box.dataset.field, false));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-step-editor]").forEach(initEditor);
  document.querySelectorAll("[data-run-form]").forEach(initRunForm);
  document.querySelectorAll("#timeline").forEach(initTimeline);
  document.querySelectorAll("[data-viewer]").forEach(initViewer);
});
