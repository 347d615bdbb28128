// routinecast studio: pick a routine, change its times, see the plan, build, listen, save, send.
// Everything goes through the JSON API under /api/ (docs/studio-api.md); writes carry the token.
"use strict";

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  const KIND_CLASS = { intro: "talk", transition: "talk", prepare: "talk", outro: "talk", work: "work", rest: "rest", switch: "switch" };
  const SIDES = [["none", "One side"], ["each", "Each side"], ["alternate", "Alternating"]];
  const FIELDS = [
    { name: "hold", label: "Hold", type: "duration", hint: "e.g. 45s" },
    { name: "reps", label: "Reps", type: "number", min: 1, max: 200 },
    { name: "tempo", label: "Seconds per rep", flowLabel: "Seconds per cycle", type: "duration", hint: "e.g. 3s" },
    { name: "sets", label: "Sets", type: "number", min: 1, max: 20 },
    { name: "sides", label: "Sides", type: "sides" },
    { name: "rest", label: "Rest between sets", type: "duration", hint: "e.g. 30s" },
  ];
  const GLOBALS = ["hold", "rest", "scale", "fit"];
  const PLAN_DELAY_MS = 250;
  const POLL_MS = 400;

  const state = {
    token: null,
    file: null,
    base: new Map(),   // step number -> the step as written (from the first plan)
    edits: new Map(),  // step number -> Map(field -> typed value)
    sets: [],          // the "set" entries last sent: [step number, field]
    plan: null,
    planSeq: 0,
    planTimer: null,
    job: null,
  };

  // -- the API ---------------------------------------------------------------------------

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Routinecast-Token": state.token },
      body: JSON.stringify(body),
    };
    let response;
    try {
      response = await fetch(path, options);
    } catch (e) {
      return { status: 0, ok: false, data: { errors: [{ message: "the studio is not answering; is it still running?" }] } };
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { status: response.status, ok: response.ok, data: data };
  }

  function requestBody() {
    const sets = [];
    state.sets = [];
    for (const [number, fields] of state.edits) {
      for (const [field, value] of fields) {
        sets.push(`${number}.${field}=${value}`);
        state.sets.push([number, field]);
      }
    }
    const body = { routine: state.file, set: sets };
    for (const name of GLOBALS) {
      const value = $(`#g-${name}`).value.trim();
      if (value !== "") body[name] = name === "scale" ? Number(value) : value;
    }
    return body;
  }

  // -- formatting ------------------------------------------------------------------------

  function clock(ms) {
    const total = Math.round(ms / 1000);
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
  }

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // -- 1: the routines -------------------------------------------------------------------

  async function loadRoutines() {
    const status = $("#routines-status");
    const answer = await api("/api/routines");
    if (!answer.ok) { status.textContent = "The routines could not be listed."; return; }
    const own = el("ul", { class: "routines" });
    const shipped = el("ul", { class: "routines" });
    for (const routine of answer.data) {
      const meta = routine.length_ms === null ? "" : clock(routine.length_ms);
      const button = el("button", { type: "button", "data-file": routine.file, "aria-pressed": String(routine.file === state.file) }, [
        el("span", { class: "r-title", text: routine.title }),
        el("span", { class: "r-meta" }, [
          `${meta ? meta + " · " : ""}${routine.file.replace(/^shipped\//, "")}`,
        ]),
        routine.error ? el("span", { class: "r-error", text: routine.error }) : "",
      ]);
      button.addEventListener("click", () => pick(routine.file));
      (routine.shipped ? shipped : own).append(el("li", {}, [button]));
    }
    const groups = [own];
    if (shipped.children.length) groups.push(el("h3", { class: "group-title", text: "Shipped with routinecast" }), shipped);
    $("#routines").replaceChildren(...groups);
    status.textContent = answer.data.length
      ? `${answer.data.length} routines; lengths are estimated until built.`
      : "No routines in this folder yet.";
  }

  async function pick(file) {
    state.file = file;
    state.edits = new Map();
    state.base = new Map();
    for (const name of GLOBALS) $(`#g-${name}`).value = "";
    $$("#routines button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.file === file)));
    resetBuild();
    $("#saved").textContent = "";
    const answer = await api("/api/plan", { routine: file });
    $("#work").hidden = false;
    if (!answer.ok) {
      $("#steps").replaceChildren();
      showErrors(answer.data && answer.data.errors);
      return;
    }
    for (const step of answer.data.steps) state.base.set(step.number, step);
    renderSteps(answer.data.steps);
    showPlan(answer.data);
    showErrors([]);
  }

  // -- 2: the steps ----------------------------------------------------------------------

  function renderSteps(steps) {
    const list = $("#steps");
    list.replaceChildren();
    for (const step of steps) {
      const rest = step.kind === "rest";
      const head = el("div", { class: "step-head" }, [
        el("strong", { text: `${step.number}. ${step.name}` }),
        el("span", { class: "kind", text: rest ? "rest" : kindLabel(step) }),
        el("span", { class: "now", "data-now": step.number }),
      ]);
      const fields = el("div", { class: "fields" });
      for (const def of FIELDS) {
        if (!(def.name in step)) continue;
        fields.append(fieldInput(step, def, rest));
      }
      list.append(el("li", { class: rest ? "rest-step" : "", "data-step": step.number }, [head, fields]));
    }
  }

  function kindLabel(step) {
    return { hold: "a hold", reps: "reps", flow: "a flow" }[step.kind] || step.kind;
  }

  function fieldInput(step, def, rest) {
    let label = rest && def.name === "rest" ? "Rest" : def.label;
    if (step.kind === "flow" && def.flowLabel) label = def.flowLabel;
    let input;
    if (def.type === "sides") {
      input = el("select", {}, SIDES.map(([value, text]) => el("option", { value: value, text: text })));
      input.value = step.sides;
    } else {
      input = el("input", {
        type: def.type === "number" ? "number" : "text",
        min: def.min, max: def.max, step: def.type === "number" ? 1 : null,
        inputmode: def.type === "number" ? "numeric" : null,
        placeholder: def.hint, autocomplete: "off",
      });
      input.value = String(step[def.name]);
    }
    input.dataset.step = step.number;
    input.dataset.field = def.name;
    input.addEventListener("input", () => edited(input));
    input.addEventListener("change", () => edited(input));
    return el("label", {}, [el("span", { class: "name", text: label }), input, el("span", { class: "hint", "data-hint": "" }), el("span", { class: "field-error" })]);
  }

  function edited(input) {
    const number = Number(input.dataset.step);
    const field = input.dataset.field;
    const written = String(state.base.get(number)[field]);
    const value = input.value.trim();
    const fields = state.edits.get(number) || new Map();
    if (value === "" || value === written) fields.delete(field);
    else fields.set(field, value);
    if (fields.size) state.edits.set(number, fields); else state.edits.delete(number);
    input.classList.toggle("changed", fields.has(field));
    schedulePlan();
  }

  function schedulePlan() {
    clearTimeout(state.planTimer);
    $("#plan").classList.add("stale");
    state.planTimer = setTimeout(replan, PLAN_DELAY_MS);
  }

  async function replan() {
    const seq = ++state.planSeq;
    const body = requestBody();
    const sent = state.sets.slice();
    const answer = await api("/api/plan", body);
    if (seq !== state.planSeq) return; // a newer change is on its way
    if (answer.ok) {
      showErrors([]);
      showPlan(answer.data);
    } else {
      showErrors((answer.data && answer.data.errors) || [{ message: `the studio answered ${answer.status}` }], sent);
    }
  }

  function showErrors(errors, sent) {
    $$(".invalid").forEach((node) => node.classList.remove("invalid"));
    $$(".field-error").forEach((node) => { node.textContent = ""; node.removeAttribute("title"); });
    const general = [];
    for (const error of errors || []) {
      const target = errorTarget(error, sent || state.sets);
      if (target) {
        const [input, text] = target;
        if (input) input.classList.add("invalid");
        const box = input ? $(".field-error", input.closest("label")) : $(`[data-error-for="${error.field}"]`);
        box.textContent = text;
        box.title = error.text || text;
      } else {
        general.push(error.text || error.message);
      }
    }
    $("#plan-error").textContent = general.join(" ");
    const bad = (errors || []).length > 0;
    $("#build").disabled = bad;
    $("#save").disabled = bad;
    $("#plan").classList.toggle("stale", bad);
  }

  function errorTarget(error, sent) {
    if (error.set !== undefined && sent[error.set]) {
      const [number, field] = sent[error.set];
      const input = $(`[data-step="${number}"][data-field="${field}"]`);
      const text = error.field ? `${error.field} ${error.message}` : error.message;
      return input ? [input, text] : null;
    }
    const name = String(error.field || "").replace(/^--/, "");
    if (GLOBALS.includes(name)) return [$(`#g-${name}`), error.message];
    if (name === "name") return [$("#save-name"), error.message];
    return null;
  }

  // -- the plan as a picture -------------------------------------------------------------

  function showPlan(plan) {
    state.plan = plan;
    $("#plan").classList.remove("stale");
    $("#title").textContent = plan.title;
    $("#file").textContent = plan.file + (plan.overrides.length ? ` · changed: ${plan.overrides.join(", ")}` : "");
    $("#total").textContent = clock(plan.duration_ms);
    $("#work-time").textContent = clock(plan.blocks.filter((b) => b.kind === "work").reduce((sum, b) => sum + b.end_ms - b.start_ms, 0));
    const target = $("#target");
    target.replaceChildren();
    if (plan.target_ms === undefined || plan.target_ms === null) {
      target.textContent = "none";
    } else {
      const diff = plan.duration_ms - plan.target_ms;
      const side = Math.abs(diff) < 500 ? "on target" : `${clock(Math.abs(diff))} ${diff > 0 ? "over" : "under"}`;
      target.append(clock(plan.target_ms), el("small", { class: diff > 0 ? "over" : "under", text: side }));
    }
    $("#estimated").textContent = plan.estimated.length
      ? `${plan.estimated.length} of the spoken lines are not made yet: their lengths are estimated until you build.`
      : "";
    drawTimeline(plan);
    const warnings = $("#warnings");
    warnings.replaceChildren(...plan.warnings.map((w) => el("li", { text: w })));
    for (const step of plan.steps) showNow(step);
    $("#build").disabled = false;
    $("#save").disabled = false;
  }

  function showNow(step) {
    const item = $(`#steps li[data-step="${step.number}"]`);
    if (!item) return;
    for (const input of $$("[data-field]", item)) {
      const now = step[input.dataset.field];
      const hint = $("[data-hint]", input.closest("label"));
      const shown = input.value.trim() === "" ? String(state.base.get(step.number)[input.dataset.field]) : input.value.trim();
      hint.textContent = now !== undefined && String(now) !== shown ? `now ${now}` : "";
    }
  }

  function drawTimeline(plan) {
    const total = plan.duration_ms || 1;
    const percent = (ms) => `${(100 * ms) / total}%`;
    const bar = $("#bar");
    bar.replaceChildren();
    for (const block of plan.blocks) {
      const length = block.end_ms - block.start_ms;
      const kind = KIND_CLASS[block.kind] || "talk";
      const what = [block.name || block.kind, block.side ? `${block.side} side` : "", block.sets > 1 && block.set ? `set ${block.set} of ${block.sets}` : ""].filter(Boolean).join(", ");
      const node = el("div", { class: `block ${kind}`, title: `${block.kind}: ${what} · ${clock(block.start_ms)}–${clock(block.end_ms)} (${Math.round(length / 1000)} s)`, "data-kind": block.kind });
      node.style.width = percent(length);
      bar.append(node);
      if (kind === "work") fitText(node, workTexts(block));
    }
    bar.setAttribute("aria-label", `${plan.title}: ${clock(plan.duration_ms)} in ${plan.blocks.length} parts`);
    drawLabels(plan, percent);
    drawAxis(total, percent);
  }

  function workTexts(block) {
    const side = block.side ? block.side[0].toUpperCase() : "";
    const set = block.sets > 1 ? String(block.set) : "";
    const short = [side, set].filter(Boolean).join(" ");
    return [block.name || "", short, side].filter(Boolean);
  }

  function fitText(node, texts) {
    for (const text of texts) {
      node.textContent = text;
      if (node.scrollWidth <= node.clientWidth) return;
    }
    node.textContent = "";
  }

  function drawLabels(plan, percent) {
    const spans = new Map();
    for (const block of plan.blocks) {
      if (!block.step) continue;
      const span = spans.get(block.step) || { start: block.start_ms, end: block.end_ms, name: block.name };
      span.start = Math.min(span.start, block.start_ms);
      span.end = Math.max(span.end, block.end_ms);
      spans.set(block.step, span);
    }
    const labels = $("#labels");
    labels.replaceChildren();
    let row = 0;
    for (const [number, span] of spans) {
      const node = el("span", { class: row % 2 ? "high" : "low", text: `${number}. ${span.name || "Rest"}`, title: span.name || "Rest" });
      node.style.left = percent(span.start);
      node.style.maxWidth = `calc(${percent(span.end - span.start)} * 2)`;
      labels.append(node);
      row += 1;
    }
  }

  function drawAxis(total, percent) {
    const steps = [30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3];
    const every = steps.find((s) => total / s <= 12) || 3600e3;
    const axis = $("#axis");
    axis.replaceChildren();
    for (let at = 0; at < total; at += every) {
      const tick = el("span", { text: clock(at) });
      tick.style.left = percent(at);
      axis.append(tick);
    }
  }

  // -- 3: build and listen ---------------------------------------------------------------

  function resetBuild() {
    state.job = null;
    $("#progress").hidden = true;
    $("#player").hidden = true;
    $("#build-error").textContent = "";
    $("#phone").disabled = true;
    $("#qr").replaceChildren();
    const audio = $("#audio");
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
  }

  async function startBuild() {
    resetBuild();
    const body = requestBody();
    const sent = state.sets.slice();
    $("#build").disabled = true;
    const answer = await api("/api/build", body);
    if (answer.status === 422) {
      showErrors(answer.data.errors, sent);
      return;
    }
    $("#build").disabled = false;
    if (!answer.ok) {
      $("#build-error").textContent = errorText(answer);
      return;
    }
    state.job = answer.data.job;
    $("#progress").hidden = false;
    showJob(answer.data);
    poll(answer.data.job);
  }

  function errorText(answer) {
    const errors = (answer.data && answer.data.errors) || [];
    return errors.length ? errors.map((e) => e.text || e.message).join(" ") : `the studio answered ${answer.status}`;
  }

  async function poll(id) {
    if (state.job !== id) return;
    const answer = await api(`/api/jobs/${id}`);
    if (state.job !== id) return;
    if (!answer.ok) { $("#build-error").textContent = errorText(answer); return; }
    showJob(answer.data);
    if (answer.data.state === "done") return showPlayer(answer.data);
    if (answer.data.state === "failed") {
      $("#progress").hidden = true;
      $("#build-error").textContent = answer.data.error;
      return;
    }
    setTimeout(() => poll(id), POLL_MS);
  }

  function showJob(job) {
    $("#progress-bar").value = job.progress;
    const words = {
      queued: job.ahead ? `Waiting: ${job.ahead} build${job.ahead > 1 ? "s" : ""} ahead of this one.` : "Starting…",
      load: "Reading the routine…",
      speech: `Making the speech… ${Math.round(job.progress * 100)}%`,
      encode: "Putting the MP3 together…",
      done: "Built.",
      failed: "The build failed.",
    };
    $("#progress-text").textContent = words[job.stage] || words[job.state] || "";
  }

  async function showPlayer(job) {
    $("#progress").hidden = true;
    const audio = $("#audio");
    audio.querySelectorAll("track").forEach((t) => t.remove());
    audio.src = job.files.mp3;
    const track = el("track", { kind: "captions", src: job.files.vtt, srclang: "en", label: "Captions", default: true });
    audio.append(track);
    track.addEventListener("cuechange", () => {
      const cues = track.track.activeCues;
      $("#caption").textContent = cues && cues.length ? cues[0].text : "";
    });
    if (track.track) track.track.mode = "hidden";
    $("#download").href = job.files.download || job.files.mp3;
    const answer = await fetch(job.files.timeline).then((r) => r.json()).catch(() => null);
    const chapters = $("#chapters");
    chapters.replaceChildren();
    if (answer) {
      $("#built").textContent = `Built: ${clock(answer.duration_ms)}`;
      $("#built").dataset.durationMs = answer.duration_ms;
      for (const chapter of answer.chapters) {
        const button = el("button", { type: "button", "data-start": chapter.start_ms / 1000 }, [
          el("span", { class: "at", text: clock(chapter.start_ms) }), chapter.title,
        ]);
        button.addEventListener("click", () => {
          audio.currentTime = chapter.start_ms / 1000;
          const playing = audio.play();
          if (playing) playing.catch(() => {});
        });
        chapters.append(el("li", {}, [button]));
      }
    }
    $("#player").hidden = false;
    $("#phone").disabled = false;
    replan(); // every line is spoken now: the plan is exact
    $("#phone-note").textContent = "Shows a code to scan with the phone (on the same Wi-Fi).";
  }

  function highlightChapter() {
    const at = $("#audio").currentTime;
    const buttons = $$("#chapters button");
    let current = -1;
    buttons.forEach((b, i) => { if (Number(b.dataset.start) <= at + 0.05) current = i; });
    buttons.forEach((b, i) => b.setAttribute("aria-current", i === current ? "true" : "false"));
  }

  // -- 4: save and send ------------------------------------------------------------------

  async function save() {
    const body = requestBody();
    const sent = state.sets.slice();
    body.name = $("#save-name").value.trim();
    $("#saved").textContent = "";
    const answer = await api("/api/save", body);
    if (!answer.ok) {
      showErrors((answer.data && answer.data.errors) || [{ message: `the studio answered ${answer.status}` }], sent);
      return;
    }
    showErrors([]);
    const note = $("#saved");
    note.replaceChildren("Saved as ", el("code", { text: answer.data.file }), " in the routines folder.");
    note.dataset.file = answer.data.file;
    await loadRoutines();
  }

  async function sendToPhone() {
    const answer = await api("/api/phone", { job: state.job });
    const box = $("#qr");
    if (!answer.ok) {
      box.replaceChildren(el("p", { class: "error", text: errorText(answer) }));
      return;
    }
    const holder = el("div");
    holder.innerHTML = answer.data.svg; // segno's SVG, made by the studio itself
    box.replaceChildren(holder, el("a", { href: answer.data.url, text: answer.data.url }));
    $("#phone-note").textContent = "Scan it with the phone's camera. It plays while this studio runs.";
  }

  // -- start -----------------------------------------------------------------------------

  async function start() {
    const session = await api("/api/session");
    if (!session.ok) { $("#routines-status").textContent = "The studio did not answer."; return; }
    state.token = session.data.token;
    for (const name of GLOBALS) $(`#g-${name}`).addEventListener("input", schedulePlan);
    $("#reset").addEventListener("click", () => { if (state.file) pick(state.file); });
    $("#build").addEventListener("click", startBuild);
    $("#save").addEventListener("click", save);
    $("#phone").addEventListener("click", sendToPhone);
    $("#audio").addEventListener("timeupdate", highlightChapter);
    await loadRoutines();
  }

  start();
})();
