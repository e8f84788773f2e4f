/* kullback explorer: the page's state, controls and rendering. The numbers come from
 * KBMeasures (measures.js), a port of the library's kernels. */
(() => {
  const data = JSON.parse(document.getElementById("kb-data").textContent);
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const SIDES = ["p", "q"];
  const OTHER = { p: "q", q: "p" };
  const PREC = 4;
  const MIN_OUTCOMES = 2;
  const MAX_OUTCOMES = 24;

  const state = {
    key: "", labels: [], p: [], q: [], lock: { p: [], q: [] },
    names: { p: "", q: "" }, unit: data.unit,
  };

  // ------------------------------------------------------------------ formatting

  /** A number as `kullback` tables print it (fixed decimals, tiny values in e-notation), `inf`. */
  function fmt(x, prec = PREC) {
    if (x === Infinity) return "inf";
    if (x === -Infinity) return "-inf";
    if (Number.isNaN(x)) return "nan";
    if (x === 0) return (0).toFixed(prec);
    if (Math.abs(x) < 0.5 * Math.pow(10, -prec)) {
      const [m, e] = x.toExponential(Math.max(prec - 1, 1)).split("e");
      const n = Number(e);
      return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
    }
    return x.toFixed(prec);
  }

  /** For prose and table cells: ∞ instead of inf, and a real minus sign. */
  const show = (x, prec = PREC) => (x === Infinity ? "∞" : fmt(x, prec).replace(/^-/, "−"));
  /** A probability for a number field: at most 4 decimals, no trailing zeros; a positive
   * probability too small for 4 decimals in e-notation (never shown as 0). */
  const prob = (x) => (x > 0 && x < 0.5e-4 ? x.toExponential(2) : String(Number(x.toFixed(PREC))));
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const unitWord = () => state.unit;

  function listNames(names) {
    const shown = names.slice(0, 5);
    const more = names.length - shown.length;
    const head = shown.length > 1 ? `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}` : shown[0];
    return more > 0 ? `${shown.join(", ")} and ${more} more` : head;
  }

  // ------------------------------------------------------------------ state changes

  /** Rescale the unlocked bars of `side` other than `fixed` so that the bars sum to 1. */
  function rebalance(side, fixed) {
    const d = state[side], lock = state.lock[side];
    const free = [];
    let held = 0;
    d.forEach((v, j) => { if (j === fixed || lock[j]) held += v; else free.push(j); });
    if (free.length === 0) {
      const s = sum(d);
      d.forEach((v, j) => { d[j] = s > 0 ? v / s : 1 / d.length; });
      return;
    }
    const rest = Math.max(1 - held, 0);
    const s = sum(free.map((j) => d[j]));
    free.forEach((j) => { d[j] = s > 0 ? d[j] * (rest / s) : rest / free.length; });
  }

  /** The largest value bar `i` of `side` can take (the locked bars keep theirs), or null. */
  function room(side, i) {
    const lock = state.lock[side];
    if (lock[i]) return null;
    const others = state[side].map((_, j) => j).filter((j) => j !== i && !lock[j]);
    if (others.length === 0) return null;
    const held = sum(state[side].filter((_, j) => j !== i && lock[j]));
    return Math.max(1 - held, 0);
  }

  /** Set bar `i` of `side` to `v` (clamped); the others rescale. Returns whether it changed. */
  function setMass(side, i, v) {
    const max = room(side, i);
    if (max === null) {
      status(state.lock[side][i]
        ? `${side}(${state.labels[i]}) is locked: unlock it to change it.`
        : `Every other bar of ${side.toUpperCase()} is locked: unlock one to change ${side}(${state.labels[i]}).`);
      return false;
    }
    if (!Number.isFinite(v)) return false;
    state[side][i] = Math.min(Math.max(v, 0), max);
    rebalance(side, i);
    state.key = "";
    return true;
  }

  function load(pair) {
    state.key = pair.key || "";
    state.labels = pair.labels.map(String);
    state.p = pair.p.map(Number);
    state.q = pair.q.map(Number);
    state.names = { p: pair.p_name || "", q: pair.q_name || "" };
    // set once per pair, never while editing: a line that appeared or vanished mid-drag would
    // move the bars under the pointer
    $("#blurb").textContent = pair.title && pair.blurb ? `${pair.title}: ${pair.blurb}` : "";
    SIDES.forEach((s) => { state.lock[s] = state.labels.map(() => false); });
    build();
    update();
  }

  function nextLabel() {
    const taken = new Set(state.labels);
    const numeric = state.labels.every((l) => /^\d+$/.test(l));
    for (let k = 0; ; k++) {
      const name = numeric ? String(state.labels.length + 1 + k)
        : k < 26 ? String.fromCharCode(65 + k) : `X${k - 25}`;
      if (!taken.has(name)) return name;
    }
  }

  function addOutcome(name) {
    const label = (name || "").trim() || nextLabel();
    if (state.labels.length >= MAX_OUTCOMES) return status(`At most ${MAX_OUTCOMES} outcomes.`);
    if (state.labels.includes(label)) return status(`There is already an outcome called ${label}.`);
    const n = state.labels.length;
    state.labels.push(label);
    SIDES.forEach((s) => {
      state[s].push(0);
      state.lock[s].push(false);
      setMass(s, n, 1 / (n + 1));
    });
    state.key = "";
    build();
    update();
    status(`Added outcome ${label}.`);
    return true;
  }

  function removeOutcome(i) {
    if (state.labels.length <= MIN_OUTCOMES) return status(`Keep at least ${MIN_OUTCOMES} outcomes.`);
    const [label] = state.labels.splice(i, 1);
    SIDES.forEach((s) => {
      state[s].splice(i, 1);
      state.lock[s].splice(i, 1);
      rebalance(s, -1);
    });
    state.key = "";
    build();
    update();
    status(`Removed outcome ${label}.`);
    return true;
  }

  /** Exchange P and Q (values, locks and names): KL(P‖Q) and KL(Q‖P) trade places. */
  function swap() {
    [state.p, state.q] = [state.q, state.p];
    [state.lock.p, state.lock.q] = [state.lock.q, state.lock.p];
    [state.names.p, state.names.q] = [state.names.q, state.names.p];
    state.key = "";
    build();
    update();
    status("Swapped P and Q: the two KL divergences trade places, JS stays.");
  }

  // ------------------------------------------------------------------ building the DOM

  const LOCK_ICON = `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="5" y="11" width="14" height="10" rx="2"/><path class="shackle" d="M8 11V7a4 4 0 0 1 8 0v4"/></svg>`;

  function el(tag, attrs = {}, html = "") {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (html) e.innerHTML = html;
    return e;
  }

  function buildColumn(side, i) {
    const label = state.labels[i];
    const name = `${side}(${label})`;
    const col = el("div", { class: "col", "data-index": i });
    const lock = el("button", { type: "button", class: "lock", "aria-pressed": "false", "aria-label": `Lock ${name}`, title: `Lock ${name}` }, LOCK_ICON);
    const track = el("div", {
      class: "track", role: "slider", tabindex: "0", "aria-label": name,
      "aria-valuemin": "0", "aria-valuemax": "1", "aria-orientation": "vertical",
    }, `<div class="fill"></div><div class="ghost" aria-hidden="true"></div><span class="flag" aria-hidden="true">${side} = 0</span>`);
    const lab = el("div", { class: "lab", title: label });
    lab.textContent = label;
    const input = el("input", {
      class: "num", type: "number", inputmode: "decimal", min: "0", max: "1", step: "0.01",
      "data-side": side, "data-outcome": label, "aria-label": name,
    });
    lock.addEventListener("click", () => toggleLock(side, i));
    wireSlider(track, side, i);
    wireInput(input, side, i);
    col.append(track, lab, input, lock);
    return col;
  }

  function build() {
    SIDES.forEach((side) => {
      const bars = $(`[data-chart="${side}"] .bars`);
      bars.replaceChildren(el("div", { class: "axis", "aria-hidden": "true" }, "<span>1</span><span>0.5</span><span>0</span>"),
        ...state.labels.map((_, i) => buildColumn(side, i)));
      bars.style.setProperty("--n", state.labels.length);
      $(`[data-name="${side}"]`).textContent = state.names[side] ? `· ${state.names[side]}` : "";
    });
    const chips = $(".chips");
    chips.replaceChildren(...state.labels.map((label, i) => {
      const li = el("li");
      const span = el("span");
      span.textContent = label;
      const rm = el("button", { type: "button", class: "remove", "aria-label": `Remove outcome ${label}`, title: `Remove outcome ${label}` }, "×");
      rm.disabled = state.labels.length <= MIN_OUTCOMES;
      rm.addEventListener("click", () => {
        removeOutcome(i);
        // keep the keyboard user's place: the next chip's button, or the name field
        const next = $$(".chips .remove")[Math.min(i, state.labels.length - 1)];
        (next && !next.disabled ? next : $("#new-outcome")).focus();
      });
      li.append(span, rm);
      return li;
    }));
    $(".add-button").disabled = state.labels.length >= MAX_OUTCOMES;
    const tbody = $(".table tbody");
    tbody.replaceChildren(...state.labels.map((label) => {
      const tr = el("tr", { "data-outcome": label });
      const th = el("th", { scope: "row" });
      const name = el("span", { class: "name" });
      name.textContent = label;
      th.append(name, el("small", { class: "note" }));
      tr.append(th, ...["p", "q", "entropy_p", "kl", "cross_entropy"].map((k) => el("td", { "data-term": k })));
      return tr;
    }));
  }

  // ------------------------------------------------------------------ controls

  function toggleLock(side, i) {
    state.lock[side][i] = !state.lock[side][i];
    update();
  }

  function valueFromPointer(track, e) {
    const r = track.getBoundingClientRect();
    const v = (r.bottom - e.clientY) / r.height;
    return Math.round(Math.min(Math.max(v, 0), 1) * 100) / 100;
  }

  function wireSlider(track, side, i) {
    track.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      track.focus({ preventScroll: true });
      track.setPointerCapture(e.pointerId);
      track.classList.add("dragging");
      if (setMass(side, i, valueFromPointer(track, e))) update();
    });
    track.addEventListener("pointermove", (e) => {
      if (!track.hasPointerCapture(e.pointerId)) return;
      if (setMass(side, i, valueFromPointer(track, e))) update();
    });
    const end = (e) => {
      if (track.hasPointerCapture(e.pointerId)) track.releasePointerCapture(e.pointerId);
      track.classList.remove("dragging");
      announce();
    };
    track.addEventListener("pointerup", end);
    track.addEventListener("pointercancel", end);
    track.addEventListener("keydown", (e) => {
      const step = e.shiftKey ? 0.001 : 0.01;
      const cur = state[side][i];
      const up = (s) => (Math.floor(cur / s + 1e-7) + 1) * s;
      const down = (s) => (Math.ceil(cur / s - 1e-7) - 1) * s;
      const moves = {
        ArrowUp: () => up(step), ArrowRight: () => up(step),
        ArrowDown: () => down(step), ArrowLeft: () => down(step),
        PageUp: () => up(0.1), PageDown: () => down(0.1),
        Home: () => 0, End: () => 1,
      };
      if (!(e.key in moves)) return;
      e.preventDefault();
      if (setMass(side, i, Number(moves[e.key]().toFixed(6)))) { update(); announce(); }
    });
  }

  function wireInput(input, side, i) {
    const commit = () => {
      const text = input.value.trim();
      const v = Number(text);
      if (text === "" || !Number.isFinite(v) || v < 0 || v > 1) {
        status(`${side}(${state.labels[i]}) must be a number from 0 to 1.`);
        update();
        return;
      }
      if (v === state[side][i]) return;
      if (setMass(side, i, v)) announce();
      update();
    };
    input.addEventListener("change", commit);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); commit(); } });
  }

  function wireStatic() {
    $('select[name="unit"]').value = state.unit;
    $('select[name="unit"]').addEventListener("change", (e) => {
      state.unit = e.target.value;
      update();
      announce();
    });
    const group = $(".preset-buttons");
    const pairs = data.start.key === "yours" ? [data.start, ...data.presets] : data.presets;
    pairs.forEach((pair) => {
      const b = el("button", { type: "button", class: "preset", "data-preset": pair.key, "aria-pressed": "false" });
      b.textContent = pair.title;
      b.addEventListener("click", () => { load(pair); status(`Loaded: ${pair.title}.`); });
      group.append(b);
    });
    $(".add").addEventListener("submit", (e) => {
      e.preventDefault();
      const field = $("#new-outcome");
      if (addOutcome(field.value) === true) field.value = "";
    });
    $("#swap").addEventListener("click", swap);
    $$("[data-version]").forEach((n) => { n.textContent = data.version; });
  }

  // ------------------------------------------------------------------ rendering

  function ruledOut(a, b) {
    // outcomes where side a has mass and side b has none: they make KL(a‖b) infinite
    return state.labels.filter((_, i) => state[a][i] > 0 && state[b][i] === 0);
  }

  function renderCharts() {
    SIDES.forEach((side) => {
      const other = OTHER[side];
      $$(`[data-chart="${side}"] .col`).forEach((col, i) => {
        const v = state[side][i];
        const locked = state.lock[side][i];
        const track = $(".track", col);
        $(".fill", track).style.height = `${Math.min(Math.max(v, 0), 1) * 100}%`;
        $(".ghost", track).style.bottom = `${Math.min(Math.max(state[other][i], 0), 1) * 100}%`;
        track.setAttribute("aria-valuenow", prob(v));
        track.setAttribute("aria-valuetext", `${prob(v)}${locked ? ", locked" : ""}`);
        track.setAttribute("aria-disabled", String(locked || room(side, i) === null));
        const input = $("input", col);
        if (document.activeElement !== input || Number(input.value) !== v) input.value = prob(v);
        input.readOnly = locked;
        const lock = $(".lock", col);
        lock.setAttribute("aria-pressed", String(locked));
        col.classList.toggle("locked", locked);
        col.classList.toggle("ruled-out", v === 0 && state[other][i] > 0);
      });
    });
  }

  function setMeasure(key, v) {
    const node = $(`[data-measure="${key}"]`);
    node.textContent = fmt(v);
    node.dataset.value = Number.isFinite(v) ? String(v) : fmt(v);
    node.classList.toggle("inf", v === Infinity);
    node.closest(".m").classList.toggle("is-inf", v === Infinity);
  }

  /** One sentence per measure, with its number: what it means for coding P and Q. */
  function captions(m) {
    const u = unitWord();
    const ln2 = KBMeasures.measures([1, 0], [0, 1], state.unit).js_divergence;
    const out = {
      entropy_p: `The average surprise of P: its best code uses ${show(m.entropy_p)} ${u} per symbol.`,
      entropy_q: `The best code for Q uses ${show(m.entropy_q)} ${u} per symbol.`,
      js_divergence: `Symmetric, never infinite, at most ${state.unit === "bits" ? "1 bit" : `ln 2 = ${show(ln2)} ${u}`}: the average KL of P and Q from their mixture.`,
      js_distance: "The square root of JS: a true distance between P and Q (a metric).",
    };
    for (const [dir, [A, B]] of Object.entries({ pq: ["P", "Q"], qp: ["Q", "P"] })) {
      const bad = ruledOut(A.toLowerCase(), B.toLowerCase());
      const names = listNames(bad), them = bad.length === 1 ? "it" : "them";
      const kl = m[`kl_${dir}`], ce = m[`cross_entropy_${dir}`];
      out[`kl_${dir}`] = kl === Infinity
        ? `Infinite: ${B} gives probability 0 to ${names}, which ${A} allows; a code built for ${B} has no codeword for ${them}.`
        : kl === 0 ? `${A} = ${B}: a code built for ${B} costs nothing extra.`
          : `Coding ${A} with a code built for ${B} costs ${show(kl)} extra ${u} per symbol.`;
      out[`cross_entropy_${dir}`] = ce === Infinity
        ? `Infinite, as KL(${A}‖${B}) is: ${B} rules out ${names}.`
        : `${A} coded with a code built for ${B}: ${show(ce)} ${u} per symbol on average.`;
    }
    return out;
  }

  function story(m, terms) {
    const same = state.p.every((v, i) => v === state.q[i]);
    if (same) return "P = Q: both KL divergences and JS are 0, and each cross-entropy equals the entropy. Drag a bar to pull them apart.";
    const u = unitWord();
    let top = -1;
    terms.forEach((t, i) => { if (top < 0 || t.kl > terms[top].kl) top = i; });
    const [a, b] = [show(m.kl_pq), show(m.kl_qp)];
    const lead = (a === b
      ? `Here KL(P‖Q) = KL(Q‖P) = ${a} ${u}, but in general KL is not symmetric.`
      : `KL is not symmetric: KL(P‖Q) = ${a} but KL(Q‖P) = ${b} ${u}.`)
      + " KL(P‖Q) weighs each log-ratio log(p/q) by p, so it is large where P is likely and Q is not.";
    const t = terms[top];
    if (t.kl === Infinity) return `${lead} Here q(${state.labels[top]}) = 0 < p(${state.labels[top]}) makes it infinite.`;
    if (!(t.kl > 0)) return lead;
    return `${lead} The largest term is ${state.labels[top]}'s: p log(p/q) = ${show(t.kl)} (p = ${prob(state.p[top])}, q = ${prob(state.q[top])}).`;
  }

  function renderMeasures(m) {
    Object.entries(m).forEach(([k, v]) => setMeasure(k, v));
    $$("[data-mini]").forEach((n) => { n.textContent = show(m[n.dataset.mini]); });
    const caps = captions(m);
    Object.entries(caps).forEach(([k, text]) => { $(`[data-caption="${k}"]`).textContent = text; });
    $$("[data-unit]").forEach((n) => { n.textContent = n.dataset.unit === "sqrt" ? `√${unitWord()}` : unitWord(); });
    $$("[data-unit-name]").forEach((n) => { n.textContent = `in ${unitWord()}`; });
  }

  function renderStack(key, h, kl, ce, scale, sideName) {
    const row = $(`[data-stack="${key}"]`);
    const pct = (x) => `${Math.max(0, Math.min(100, (x / scale) * 100))}%`;
    const base = $(".base", row);
    base.style.width = pct(h);
    base.textContent = h / scale > 0.2 ? `H(${key === "pq" ? "P" : "Q"}) ${show(h)}` : "";
    const extra = $(".extra", row);
    extra.classList.toggle("infinite", kl === Infinity);
    extra.style.width = kl === Infinity ? `calc(100% - ${pct(h)})` : pct(kl);
    const [a, b] = key === "pq" ? ["P", "Q"] : ["Q", "P"];
    $(".stack-sum", row).innerHTML = `<b>${show(ce)}</b> = ${show(h)} + ${show(kl)} <span class="su">${unitWord()}</span>`;
    $(".stack", row).setAttribute("aria-label",
      `H(${a},${b}) = ${show(ce)} ${unitWord()}: H(${a}) = ${show(h)} plus KL(${a}‖${b}) = ${show(kl)}${sideName}`);
  }

  function renderIdentity(m) {
    const values = [m.entropy_p, m.entropy_q, m.cross_entropy_pq, m.cross_entropy_qp];
    const finite = values.filter(Number.isFinite);
    let scale = Math.max(...finite, 1e-12);
    if (finite.length < values.length) scale *= 1.35;
    renderStack("pq", m.entropy_p, m.kl_pq, m.cross_entropy_pq, scale, "");
    renderStack("qp", m.entropy_q, m.kl_qp, m.cross_entropy_qp, scale, "");
  }

  function renderTable(m, terms) {
    $$(".table tbody tr").forEach((tr, i) => {
      const t = terms[i];
      const cells = { p: state.p[i], q: state.q[i], entropy_p: t.entropy_p, kl: t.kl, cross_entropy: t.cross_entropy };
      Object.entries(cells).forEach(([k, v]) => {
        const td = $(`[data-term="${k}"]`, tr);
        td.textContent = show(v);
        td.dataset.value = Number.isFinite(v) ? String(v) : fmt(v);
        td.classList.toggle("neg", v < 0);
      });
      const pi = state.p[i], qi = state.q[i];
      const note = pi === 0 ? "p = 0 adds nothing (0 log 0 = 0)" : qi === 0 ? "q = 0 < p: infinite" : "";
      $(".note", tr).textContent = note;
      tr.classList.toggle("infinite", pi > 0 && qi === 0);
    });
    const sums = { p: sum(state.p), q: sum(state.q), entropy_p: m.entropy_p, kl: m.kl_pq, cross_entropy: m.cross_entropy_pq };
    Object.entries(sums).forEach(([k, v]) => { $(`[data-sum="${k}"]`).textContent = show(v); });
    $$(".table thead th").slice(3, 6).forEach((th) => { th.dataset.unit = unitWord(); });
  }

  function renderPresets() {
    $$(".preset").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.preset === state.key)));

  }

  function update() {
    const m = KBMeasures.measures(state.p, state.q, state.unit);
    const terms = KBMeasures.contributions(state.p, state.q, state.unit);
    renderCharts();
    renderMeasures(m);
    $("#story").textContent = story(m, terms);
    renderIdentity(m);
    renderTable(m, terms);
    renderPresets();
    return m;
  }

  // ------------------------------------------------------------------ messages

  let statusTimer = 0;
  function status(text) {
    const node = $("#announce");
    node.textContent = text;
    const visible = $("#status");
    if (visible) {
      visible.textContent = text;
      clearTimeout(statusTimer);
      statusTimer = setTimeout(() => { visible.textContent = ""; }, 4000);
    }
    return false;
  }

  let announceTimer = 0;
  function announce() {
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      const m = KBMeasures.measures(state.p, state.q, state.unit);
      $("#announce").textContent = `KL(P‖Q) = ${show(m.kl_pq)}, KL(Q‖P) = ${show(m.kl_qp)}, H(P) = ${show(m.entropy_p)}, H(P,Q) = ${show(m.cross_entropy_pq)} ${unitWord()}.`;
    }, 300);
  }

  /** The page's numbers for the starting pair must match the library's, to the digits shown. */
  function checkAgainstLibrary() {
    const bad = [];
    for (const [unit, ref] of Object.entries(data.reference)) {
      const mine = KBMeasures.measures(data.start.p, data.start.q, unit);
      for (const [k, want] of Object.entries(ref)) {
        const w = want === "inf" ? Infinity : want;
        const ok = w === Infinity ? mine[k] === Infinity : Math.abs(mine[k] - w) <= 1e-12 * Math.max(1, Math.abs(w));
        if (!ok) bad.push(`${k} in ${unit}: page ${mine[k]}, library ${want}`);
      }
    }
    if (bad.length) {
      console.error(`kullback explorer: the page disagrees with the library: ${bad.join("; ")}`);
      $("#status").textContent = "Warning: this page's arithmetic disagrees with the kullback library.";
    }
    return bad;
  }

  // ------------------------------------------------------------------ start

  wireStatic();
  load(data.start);
  checkAgainstLibrary();
  window.kullbackExplorer = {
    state: () => JSON.parse(JSON.stringify({ labels: state.labels, p: state.p, q: state.q, unit: state.unit, lock: state.lock })),
    load: (pair) => load({ key: "", ...pair }),
    setMass: (side, label, v) => { const ok = setMass(side, state.labels.indexOf(label), v); update(); return ok; },
    measures: KBMeasures.measures,
    contributions: KBMeasures.contributions,
    klTerm: KBMeasures.klTerm,
    checkAgainstLibrary,
    fmt,
  };
  document.documentElement.dataset.ready = "true";
})();
