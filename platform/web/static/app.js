// Sahara web app: wallet sign-in (EIP-4361 over EIP-1193), actions signed by the browser wallet
// or, in dev mode, by the server; charts (uPlot) and the lineage graph (cytoscape + dagre),
// loaded only on the pages that have them. No inline scripts: the CSP allows this file only.
(function () {
  "use strict";
  const meta = (n) => (document.querySelector(`meta[name="${n}"]`) || {}).content || "";
  const CSRF = meta("csrf-token");
  const DEV = meta("dev-signer") === "true"; // dev mode, signed in as a dev account
  const CHAIN_ID = Number(meta("chain-id"));
  const SAH = 1e18;

  function wallet() { return window.ethereum || null; }

  function show() {
    const w = !!wallet();
    document.querySelectorAll(".wallet-only").forEach((e) => { e.hidden = !w; });
    document.querySelectorAll(".no-wallet").forEach((e) => { e.hidden = w; });
    document.querySelectorAll(".dev-only").forEach((e) => { e.hidden = !DEV; });
  }

  async function api(path, body) {
    const res = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({ error: res.status + " " + res.statusText }));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }

  // ---- wallet ----
  async function walletAccount() {
    const accs = await wallet().request({ method: "eth_requestAccounts" });
    if (!accs || !accs.length) throw new Error("the wallet gave no account");
    const id = await wallet().request({ method: "eth_chainId" });
    if (Number(id) !== CHAIN_ID) {
      try {
        await wallet().request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + CHAIN_ID.toString(16) }] });
      } catch (e) {
        throw new Error(`the wallet is on chain ${Number(id)}; switch it to chain ${CHAIN_ID} (RPC http://127.0.0.1:8545)`);
      }
    }
    return accs[0];
  }

  async function walletLogin(btn, status) {
    status.textContent = "Asking the wallet…";
    const addr = await walletAccount();
    const r = await fetch("/api/auth/nonce?address=" + encodeURIComponent(addr), { headers: { Accept: "application/json" } });
    const n = await r.json();
    if (!r.ok) throw new Error(n.error);
    status.textContent = "Sign the message in your wallet…";
    const sig = await wallet().request({ method: "personal_sign", params: [utf8Hex(n.message), addr] });
    await api("/api/auth/login", { message: n.message, signature: sig });
    location.href = btn.dataset.next || "/account";
  }

  function utf8Hex(s) {
    return "0x" + Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // act runs one chain action: signed by the server (dev) or by the wallet (EIP-1193).
  async function act(action, params, sign, say) {
    if (sign === "dev") {
      say(`Signing ${action} as the dev account and waiting for the block…`);
      return api("/api/tx/" + action, Object.assign({}, params, { sign: "dev" }));
    }
    if (!wallet()) throw new Error("no browser wallet found");
    const from = await walletAccount();
    const prep = await api("/api/tx/" + action, params);
    if (prep.call.from.toLowerCase() !== from.toLowerCase()) {
      throw new Error(`the wallet's account ${from} is not the signed-in ${prep.call.from}: switch accounts or sign in again`);
    }
    say(`Confirm ${action} in your wallet…`);
    const hash = await wallet().request({ method: "eth_sendTransaction", params: [prep.call] });
    say(`Sent ${hash.slice(0, 10)}…; waiting for the block…`);
    const res = await api("/api/tx/wait", { hash, action, params });
    if (prep.next !== undefined) res.next = prep.next;
    return res;
  }

  function fields(form) {
    const out = {};
    form.querySelectorAll("input, select, textarea").forEach((el) => {
      if (!el.name || el.type === "file" || el.type === "submit") return;
      if (el.type === "checkbox") out[el.name] = el.checked;
      else if (el.dataset.type === "int") out[el.name] = el.value === "" ? 0 : Number(el.value);
      else out[el.name] = el.value;
    });
    return out;
  }

  async function upload(form, say) {
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) throw new Error("choose a file");
    const fd = new FormData();
    fd.append("private", form.querySelector("input[name=private]").checked ? "1" : "0");
    fd.append("file", file);
    say(`Uploading ${file.name} (${(file.size / 1024).toFixed(1)} KiB)…`);
    const res = await fetch("/api/upload", { method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRF-Token": CSRF, Accept: "application/json" } });
    const data = await res.json().catch(() => ({ error: res.status + " " + res.statusText }));
    if (!res.ok) throw new Error(data.error);
    return data;
  }

  const flows = {
    mint: (f, sign, say) => act("mint", f, sign, say),
    pay: (f, sign, say) => act("pay", f, sign, say),
    "claim-all": async (f, sign, say) => {
      let after = 0, n = 0;
      for (;;) {
        const r = await act("claim", { start_after: after }, sign, say);
        n++;
        if (!r.next || Number(r.next) === 0 || n > 50) return r;
        after = Number(r.next);
      }
    },
    "publish-terms": async (f, sign, say, form) => {
      const t = await act("terms", f, sign, say);
      return act("attach", { asset: Number(form.dataset.asset), terms: Number(t.terms_id) }, sign, say);
    },
    publish: async (f, sign, say, form) => {
      const up = await upload(form, say);
      const reg = { kind: f.kind, name: f.name, description: f.description, root: up.root, size: up.size, parents: [] };
      if (f.parent) reg.parents.push({ asset: f.parent, license: f.license, edge: f.edge });
      const r = await act("register", reg, sign, say);
      if (f.offer) {
        const t = await act("terms", f, sign, say);
        await act("attach", { asset: Number(r.asset_id), terms: Number(t.terms_id) }, sign, say);
      }
      return r;
    },
  };

  function bindActions() {
    document.querySelectorAll("form.action").forEach((form) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const sign = ev.submitter && ev.submitter.value === "dev" ? "dev" : "wallet";
        const out = form.querySelector("output.status");
        const say = (m, cls) => { out.textContent = m; out.className = "status " + (cls || "busy"); };
        const buttons = form.querySelectorAll("button");
        buttons.forEach((b) => (b.disabled = true));
        try {
          const flow = flows[form.dataset.action] || ((f, sg, sy) => act(form.dataset.action, f, sg, sy));
          const res = await flow(fields(form), sign, say, form);
          say("Done" + (res.block ? ` in block ${res.block}` : "") + ".", "ok");
          if (form.dataset.done === "asset" && res.asset_id) location.href = "/assets/" + res.asset_id;
          else if (form.dataset.done === "reload") location.reload();
        } catch (e) {
          say(e.message || String(e), "error");
        } finally {
          buttons.forEach((b) => (b.disabled = false));
        }
      });
    });
    const login = document.getElementById("wallet-login");
    if (login) {
      login.addEventListener("click", async () => {
        const st = document.getElementById("login-status");
        try { await walletLogin(login, st); } catch (e) { st.textContent = e.message || String(e); st.className = "status error"; }
      });
    }
  }

  // ---- charts and graph, loaded on demand ----
  function load(src) {
    return new Promise((ok, fail) => {
      const s = document.createElement("script");
      s.src = src; s.onload = ok; s.onerror = () => fail(new Error("could not load " + src));
      document.head.appendChild(s);
    });
  }

  const ROLE = { shareholder: "Payments", ancestor: "Royalties (ancestor)", license_fee: "License fees" };
  const COLORS = ["#1e6fd9", "#d97a1e", "#2e9d5b", "#9b3fd1"];

  function chart(el) {
    let names = [], series = {};
    const src = document.getElementById(el.dataset.source);
    const data = src ? JSON.parse(src.textContent || "null") : null;
    if (!el.dataset.multi) {
      names = [el.dataset.label || "total"]; series[names[0]] = data || [];
    } else {
      const m = data || {};
      names = Object.keys(m); names.forEach((k) => (series[k] = m[k]));
    }
    const times = [...new Set(names.flatMap((n) => series[n].map((p) => p.time)))].sort((a, b) => a - b);
    if (!times.length) { el.innerHTML = '<p class="muted small">No data yet.</p>'; el.style.minHeight = "0"; return; }
    const cols = names.map((n) => { // running totals are steps: carry the last value forward
      let i = 0, last = 0; const pts = series[n];
      return times.map((t) => { while (i < pts.length && pts[i].time <= t) { last = Number(pts[i].total) / SAH; i++; } return last; });
    });
    if (times.length === 1) { times.unshift(times[0] - 60); cols.forEach((c) => c.unshift(0)); }
    const opts = {
      width: el.clientWidth || 500, height: 220,
      series: [{}].concat(names.map((n, i) => ({ label: ROLE[n] || n, stroke: COLORS[i % 4], width: 2, fill: COLORS[i % 4] + "22", paths: uPlot.paths.stepped({ align: 1 }) }))),
      axes: [{}, { label: "SAH", size: 70 }],
      scales: { y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    };
    el.innerHTML = "";
    const u = new uPlot(opts, [times].concat(cols), el);
    new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 220 })).observe(el);
  }

  function graph(el) {
    const g = JSON.parse(document.getElementById("graph-data").textContent || "{}") || {};
    const focus = el.dataset.focus;
    if (!g.nodes || g.nodes.length < 2) el.classList.add("small-graph");
    else if (g.nodes.length < 5) el.classList.add("few-graph");
    const kindColor = { DATASET: "#1e6fd9", MODEL: "#d97a1e", AGENT: "#2e9d5b", KNOWLEDGE_BASE: "#9b3fd1" };
    const els = (g.nodes || []).map((n) => ({ data: { id: String(n.id), label: `#${n.id} ${n.name.length > 24 ? n.name.slice(0, 23) + "…" : n.name}`, color: kindColor[n.kind] || "#777", focus: String(n.id) === focus ? 1 : 0 } }))
      .concat((g.edges || []).map((e) => ({ data: { id: `e${e.child}-${e.parent}`, source: String(e.parent), target: String(e.child), label: `${e.type.toLowerCase().replace(/_/g, " ")} · ${(e.share / 1e6).toFixed(e.share % 1e6 ? 2 : 0)}%` } })));
    const cy = cytoscape({
      container: el, elements: els, wheelSensitivity: 0.2, minZoom: 0.3, maxZoom: 2,
      style: [
        { selector: "node", style: { "background-color": "data(color)", label: "data(label)", color: "#222", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22 } },
        { selector: "node[focus = 1]", style: { "border-width": 4, "border-color": "#111", width: 30, height: 30, "font-weight": "bold" } },
        { selector: "edge", style: { width: 2, "line-color": "#9aa7b5", "target-arrow-color": "#9aa7b5", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 9, color: "#555", "text-background-color": "#fff", "text-background-opacity": 0.8, "text-background-padding": 2 } },
      ],
      layout: { name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 120 },
    });
    cy.on("tap", "node", (e) => { if (e.target.id() !== focus) location.href = "/assets/" + e.target.id(); });
    cy.fit(undefined, 30);
    if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
  }

  async function visuals() {
    const charts = document.querySelectorAll(".chart");
    const g = document.getElementById("graph");
    try {
      if (charts.length) { await load("/static/vendor/uPlot.iife.min.js"); charts.forEach(chart); }
      if (g) {
        await load("/static/vendor/cytoscape.min.js");
        await load("/static/vendor/cytoscape-dagre.min.js");
        graph(g);
      }
      document.body.dataset.ready = "1";
    } catch (e) {
      console.error(e);
      document.body.dataset.ready = "error";
    }
  }

  // Other services' scripts (the data platform's labelling pages) reuse the signing path.
  window.Sahara = { act, api, flows, CSRF, load };

  document.addEventListener("DOMContentLoaded", () => { show(); bindActions(); visuals(); });
  // a wallet injected after load (extensions announce themselves late)
  window.addEventListener("ethereum#initialized", show, { once: true });
})();
