// Sahara data tasks: the labelling interface (one per task type, driven by the keyboard), the
// requester's import, payout and charts, and the review queue. It reuses app.js (window.Sahara)
// for CSRF-protected calls.
(function () {
  "use strict";
  const S = () => window.Sahara;
  const $ = (sel, el) => (el || document).querySelector(sel);
  const h = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    kids.forEach((k) => e.append(k));
    return e;
  };
  async function post(path, body) { return S().api(path, body); }

  // ---- labelling ----
  function work(root) {
    const project = root.dataset.project, type = root.dataset.type;
    const labels = root.dataset.labels ? root.dataset.labels.split("|") : [];
    const rmin = Number(root.dataset.ratingMin), rmax = Number(root.dataset.ratingMax);
    const box = $("#task"), controls = $("#controls"), status = $("#work-status"), keys = $("#keys");
    let task = null, started = 0, answer = null, count = 0, busy = false;
    const say = (m, cls) => { status.textContent = m; status.className = "status " + (cls || ""); };

    async function next() {
      say("");
      const t = await post(`/api/tasks/${project}/next`, {});
      if (t.done) {
        task = null; box.innerHTML = ""; controls.innerHTML = "";
        box.append(h("div", { class: "empty", "data-testid": "no-work" }, t.message || "No more tasks."));
        return;
      }
      task = t; started = performance.now(); render();
    }

    async function submit() {
      if (!task || busy) return;
      if (answer === null) { say("Choose an answer first.", "error"); return; }
      busy = true;
      try {
        const r = await post(`/api/tasks/${project}/submit`, { item_id: task.item_id, answer, duration_ms: Math.round(performance.now() - started), next: true });
        count++;
        if (r.banned) { task = null; box.innerHTML = ""; controls.innerHTML = ""; box.append(h("p", { class: "warn", "data-testid": "banned" }, "You are banned from this project: " + r.banned)); }
        else if (r.next) { task = r.next; started = performance.now(); render(); }
        else await next();
        $("#work-count").textContent = `${count} answered`; // once the next task is on screen
      } catch (e) {
        say(e.message, "error");
        if (/banned/.test(e.message)) { task = null; controls.innerHTML = ""; }
      } finally { busy = false; }
    }

    function content() {
      const d = task.data, out = h("div", { class: "item", "data-item": String(task.item_id) });
      if (d.prompt) out.append(h("p", { class: "prompt", text: d.prompt }));
      if (type === "pairwise") {
        out.append(h("div", { class: "pair" }, h("div", {}, h("b", { text: "A" }), h("p", { class: "description", text: d.a })), h("div", {}, h("b", { text: "B" }), h("p", { class: "description", text: d.b }))));
      } else if (d.text) out.append(h("p", { class: "description text", id: "item-text", text: d.text }));
      if (d.image) out.append(h("div", { class: "imgwrap", id: "imgwrap" }, h("img", { src: `/tasks/${project}/items/${task.item_id}/image`, alt: "item image", id: "item-img", draggable: "false" })));
      return out;
    }

    function choiceButtons(opts, pick) {
      controls.innerHTML = "";
      opts.forEach((o, i) => {
        const b = h("button", { class: "outline choice", "data-key": String(i + 1), "data-value": o.value }, h("kbd", { text: o.key || String(i + 1) }), " " + o.label);
        b.addEventListener("click", () => pick(o.value, b));
        controls.append(b);
      });
    }
    const mark = (b) => { controls.querySelectorAll(".choice").forEach((x) => x.classList.toggle("picked", x === b)); };

    function render() {
      answer = null; box.innerHTML = ""; box.append(content());
      if (task.suggestion) box.append(h("p", { class: "small muted", "data-testid": "suggestion" }, "Model suggests: " + task.suggestion));
      if (type === "classify") {
        choiceButtons(labels.map((l) => ({ label: l, value: l })), (v) => { answer = { label: v }; submit(); });
        keys.textContent = `Keys: 1–${labels.length} answer at once.`;
      } else if (type === "pairwise") {
        choiceButtons([{ label: "A is better", value: "A", key: "1" }, { label: "B is better", value: "B", key: "2" }, { label: "Tie", value: "tie", key: "3" }], (v) => { answer = { choice: v }; submit(); });
        keys.textContent = "Keys: 1 = A, 2 = B, 3 = tie.";
      } else if (type === "rating") {
        const opts = []; for (let v = rmin; v <= rmax; v++) opts.push({ label: String(v), value: v, key: String(v) });
        choiceButtons(opts, (v, b) => { answer = { rating: v }; mark(b || controls.querySelector(`[data-value="${v}"]`)); });
        keys.textContent = `Keys: ${rmin}–${rmax} choose, Enter submits.`;
      } else if (type === "multi") {
        const picked = new Set(); answer = { labels: [] };
        choiceButtons(labels.map((l) => ({ label: l, value: l })), (v, b) => {
          if (picked.has(v)) picked.delete(v); else picked.add(v);
          (b || controls.querySelector(`[data-value="${CSS.escape(v)}"]`)).classList.toggle("picked", picked.has(v));
          answer = { labels: [...picked] };
        });
        keys.textContent = `Keys: 1–${labels.length} toggle, Enter submits (none picked = none apply).`;
      } else if (type === "text") {
        controls.innerHTML = "";
        const ta = h("textarea", { rows: "4", id: "answer-text", placeholder: "Your answer" });
        ta.addEventListener("input", () => { answer = ta.value.trim() ? { text: ta.value } : null; });
        controls.append(ta); ta.focus();
        keys.textContent = "Ctrl+Enter submits.";
      } else if (type === "spans") {
        spans(); keys.textContent = `Select text, then 1–${labels.length} to tag it; Backspace removes the last span; Enter submits.`;
      } else if (type === "boxes") {
        boxes(); keys.textContent = `Drag on the image to draw a box, then 1–${labels.length} to label it; Backspace removes the last; Enter submits.`;
      }
      const sub = h("button", { class: "small", id: "submit" }, "Submit ", h("kbd", { text: "Enter" }));
      sub.addEventListener("click", submit);
      if (!["classify", "pairwise"].includes(type)) controls.append(sub);
    }

    // Spans: offsets in UTF-16 code units of the item's text, as the server checks them.
    let spanList = [];
    function spans() {
      spanList = []; answer = { spans: [] };
      const legend = h("p", { class: "small" });
      labels.forEach((l, i) => legend.append(h("kbd", { text: String(i + 1) }), ` ${l}  `));
      controls.innerHTML = ""; controls.append(legend);
      paintSpans();
    }
    function paintSpans() {
      const el = $("#item-text"), text = task.data.text || "";
      el.innerHTML = "";
      let at = 0;
      spanList.slice().sort((a, b) => a.start - b.start).forEach((s) => {
        el.append(text.slice(at, s.start));
        el.append(h("mark", { class: "span", title: s.label, "data-label": s.label }, text.slice(s.start, s.end), h("sup", { text: s.label })));
        at = s.end;
      });
      el.append(text.slice(at));
      answer = { spans: spanList.map((s) => ({ start: s.start, end: s.end, label: s.label })) };
    }
    function selectedRange() {
      const el = $("#item-text"), sel = window.getSelection();
      if (!sel || sel.isCollapsed || !el.contains(sel.anchorNode)) return null;
      const r = sel.getRangeAt(0), pre = document.createRange();
      pre.selectNodeContents(el); pre.setEnd(r.startContainer, r.startOffset);
      const start = pre.toString().replace(/[\u2070-\u209f]/g, "").length;
      // offsets are computed on the plain text: sup labels are not part of it
      const plainBefore = plainOffset(el, r.startContainer, r.startOffset), plainEnd = plainOffset(el, r.endContainer, r.endOffset);
      return plainEnd > plainBefore ? { start: plainBefore, end: plainEnd } : (start ? null : null);
    }
    function plainOffset(root, node, off) {
      let n = 0; const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) {
        const t = walk.currentNode;
        if (t.parentNode.tagName === "SUP") { if (t === node) return n; continue; }
        if (t === node) return n + off;
        n += t.length;
      }
      return n;
    }

    // Boxes: drawn with the mouse on the image, stored as fractions of its size.
    let boxList = [], drawing = null;
    function boxes() {
      boxList = []; answer = { boxes: [] };
      const legend = h("p", { class: "small" });
      labels.forEach((l, i) => legend.append(h("kbd", { text: String(i + 1) }), ` ${l}  `));
      controls.innerHTML = ""; controls.append(legend);
      const wrap = $("#imgwrap");
      wrap.addEventListener("mousedown", (e) => {
        const r = wrap.getBoundingClientRect();
        drawing = { x0: (e.clientX - r.left) / r.width, y0: (e.clientY - r.top) / r.height, el: h("div", { class: "box drawing" }) };
        wrap.append(drawing.el); e.preventDefault();
      });
      window.addEventListener("mousemove", (e) => {
        if (!drawing) return;
        const r = wrap.getBoundingClientRect();
        const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), y = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
        drawing.x1 = x; drawing.y1 = y; place(drawing.el, norm(drawing));
      });
      window.addEventListener("mouseup", () => {
        if (!drawing) return;
        const b = norm(drawing); drawing.el.remove(); drawing = null;
        if (b.w > 0.01 && b.h > 0.01) { boxList.push(Object.assign(b, { label: "" })); paintBoxes(); say(`Box drawn: press 1–${labels.length} to label it.`); }
      });
    }
    const norm = (d) => ({ x: Math.min(d.x0, d.x1 ?? d.x0), y: Math.min(d.y0, d.y1 ?? d.y0), w: Math.abs((d.x1 ?? d.x0) - d.x0), h: Math.abs((d.y1 ?? d.y0) - d.y0) });
    const place = (el, b) => Object.assign(el.style, { left: b.x * 100 + "%", top: b.y * 100 + "%", width: b.w * 100 + "%", height: b.h * 100 + "%" });
    function paintBoxes() {
      const wrap = $("#imgwrap");
      wrap.querySelectorAll(".box").forEach((e) => e.remove());
      boxList.forEach((b) => { const e = h("div", { class: "box" + (b.label ? "" : " unlabelled") }, h("span", { text: b.label || "?" })); place(e, b); wrap.append(e); });
      answer = boxList.some((b) => !b.label) ? null : { boxes: boxList.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label: b.label })) };
    }

    document.addEventListener("keydown", (e) => {
      if (!task || busy) return;
      const inText = e.target.tagName === "TEXTAREA" || e.target.tagName === "INPUT";
      if (e.key === "Enter" && (!inText || e.ctrlKey || e.metaKey)) { e.preventDefault(); submit(); return; }
      if (inText) return;
      if (e.key === "Backspace" && (type === "spans" || type === "boxes")) {
        e.preventDefault();
        if (type === "spans") { spanList.pop(); paintSpans(); } else { boxList.pop(); paintBoxes(); }
        return;
      }
      const n = Number(e.key);
      if (!Number.isInteger(n) || e.key === " ") return;
      if (type === "spans") {
        const r = selectedRange(); const l = labels[n - 1];
        if (!r || !l) return;
        if (spanList.some((s) => r.start < s.end && s.start < r.end)) { say("That overlaps a span: remove it first (Backspace).", "error"); return; }
        spanList.push({ start: r.start, end: r.end, label: l }); window.getSelection().removeAllRanges(); paintSpans(); say("");
        return;
      }
      if (type === "boxes") {
        const l = labels[n - 1], b = boxList.find((x) => !x.label) || boxList[boxList.length - 1];
        if (l && b) { b.label = l; paintBoxes(); say(""); }
        return;
      }
      const b = controls.querySelector(`.choice[data-key="${n}"]`) || (type === "rating" ? controls.querySelector(`.choice[data-value="${n}"]`) : null);
      if (b) { e.preventDefault(); b.click(); }
    });

    next().catch((e) => say(e.message, "error"));
  }

  // ---- requester: import, payout, mint, charts ----
  function owner() {
    document.querySelectorAll("form.import").forEach((form) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const out = $("output", form), file = $("input[type=file]", form).files[0];
        if (!file) { out.textContent = "Choose a file."; out.className = "status error"; return; }
        const format = /\.csv$/i.test(file.name) ? "csv" : "jsonl";
        out.textContent = `Importing ${file.name}…`; out.className = "status busy";
        const res = await fetch(`/api/tasks/${form.dataset.project}/items?format=${format}`, { method: "POST", body: file, credentials: "same-origin", headers: { "X-CSRF-Token": S().CSRF, Accept: "application/json" } });
        const data = await res.json().catch(() => ({ error: res.statusText }));
        if (!res.ok) { out.textContent = data.error; out.className = "status error"; return; }
        out.textContent = `Imported ${data.items} items (${data.controls} control).`; out.className = "status ok";
        setTimeout(() => location.reload(), 600);
      });
    });
    document.querySelectorAll("form.import-images").forEach((form) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const out = $("output", form), files = $("input[type=file]", form).files;
        if (!files.length) { out.textContent = "Choose images."; out.className = "status error"; return; }
        const fd = new FormData();
        for (const f of files) fd.append("file", f);
        out.textContent = `Uploading ${files.length} image(s)…`; out.className = "status busy";
        const res = await fetch(`/api/tasks/${form.dataset.project}/images`, { method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRF-Token": S().CSRF, Accept: "application/json" } });
        const data = await res.json().catch(() => ({ error: res.statusText }));
        if (!res.ok) { out.textContent = data.error; out.className = "status error"; return; }
        out.textContent = `Added ${data.items} images.`; out.className = "status ok";
        setTimeout(() => location.reload(), 600);
      });
    });
    document.querySelectorAll("button[data-post]").forEach((b) => {
      b.addEventListener("click", async () => {
        const out = $("#post-status");
        out.textContent = "Working… (this waits for the chain)"; out.className = "status busy";
        b.disabled = true;
        try {
          const r = await post(b.dataset.post, {});
          out.textContent = r.asset_id ? `Minted dataset asset #${r.asset_id}.` : `Paid: ${r.epoch.accepted} answers accepted, ${r.epoch.rejected} rejected, ${r.settled} batch(es) settled on chain.`;
          out.className = "status ok";
          setTimeout(() => location.reload(), 800);
        } catch (e) { out.textContent = e.message; out.className = "status error"; } finally { b.disabled = false; }
      });
    });
    const src = $("#task-series");
    const charts = document.querySelectorAll(".task-chart[data-series]");
    if (!src || !charts.length) return;
    const data = JSON.parse(src.textContent || "{}") || {};
    if (!data.t || !data.t.length) { charts.forEach((c) => { c.innerHTML = '<p class="muted small">No answers yet.</p>'; c.style.minHeight = "0"; }); return; }
    S().load("/static/vendor/uPlot.iife.min.js").then(() => {
      charts.forEach((el) => {
        const key = el.dataset.series, t = data.t.map((x) => x / 1000);
        let ys = (data[key] || []).map((v) => (v < 0 ? null : v));
        if (key === "control_acc") ys = ys.map((v) => (v === null ? null : 100 * v));
        const xs = t.length === 1 ? [t[0] - 60, t[0]] : t;
        if (t.length === 1) ys = [ys[0], ys[0]];
        const u = new uPlot({ width: el.clientWidth || 400, height: 160, series: [{}, { label: el.dataset.label, stroke: key === "answers" ? "#1e6fd9" : "#2e9d5b", width: 2, spanGaps: true }],
          axes: [{}, { label: key === "answers" ? "answers" : "% correct", size: 60 }], scales: { y: { range: key === "answers" ? (u, mn, mx) => [0, Math.max(1, mx * 1.1)] : [0, 100] } } }, [xs, ys], el);
        new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 160 })).observe(el);
      });
    });
  }

  // ---- review ----
  function reviews() {
    document.querySelectorAll(".review-item").forEach((art) => {
      art.querySelectorAll("button.decide").forEach((b) => b.addEventListener("click", async () => {
        const out = $("output", art);
        try {
          await post(`/api/tasks/${art.dataset.project}/review/${art.dataset.item}`, { answer: JSON.parse(b.dataset.answer) });
          out.textContent = "Decided."; out.className = "status ok"; art.classList.add("decided");
          art.querySelectorAll("button").forEach((x) => (x.disabled = true));
        } catch (e) { out.textContent = e.message; out.className = "status error"; }
      }));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const w = $("#work");
    if (w) work(w);
    owner();
    reviews();
  });
})();
