// The backward-pass player: steps through DATA.steps, highlighting nodes and revealing gradients in the SVG.
// Reads the JSON data block (id rg-data) of the page; no network, no libraries.
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("rg-data").textContent);
  const svg = document.querySelector(".figure svg");
  const byId = (id) => (svg ? svg.querySelector('[id="' + CSS.escape(id) + '"]') : null);
  let lang = DATA.lang || ((navigator.languages || [navigator.language || "en"]).some((l) => /^ko/i.test(l)) ? "ko" : "en");
  let at = -1; // index of the step shown; -1: before the first
  let timer = null;

  const t = (key, vars) => {
    let s = DATA.ui[lang][key] || DATA.ui.en[key] || key;
    for (const k in vars || {}) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  };
  const ruleText = (step) => {
    const r = DATA.rules[step.rule] || DATA.rules.generic;
    return (r[lang] || r.en).split("{node}").join(step.name).split("{op}").join(step.op);
  };

  // Every gradient edge of the figure starts hidden; steps reveal the ones they send.
  const gradEdges = svg ? Array.from(svg.querySelectorAll('g.edge[id^="grad_"]')) : [];
  gradEdges.forEach((e) => e.classList.add("grad", "pending"));

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach((c) => e.appendChild(c));
    return e;
  }

  function valueButton(v) {
    // A value: the short text; a click shows every number (capped) below it.
    const wrap = el("span");
    const b = el("button", { class: "value", type: "button", "aria-expanded": "false", text: v.text,
      title: v.shape && v.shape.length ? "shape (" + v.shape.join(", ") + ")" : "scalar" });
    const pre = el("pre", { class: "full", hidden: "", text: v.full });
    b.addEventListener("click", () => {
      const open = pre.hasAttribute("hidden");
      if (open) pre.removeAttribute("hidden"); else pre.setAttribute("hidden", "");
      b.setAttribute("aria-expanded", String(open));
    });
    wrap.append(b, pre);
    return wrap;
  }

  function render() {
    // The figure: every step up to `at` has revealed its gradients; the current one is highlighted.
    gradEdges.forEach((e) => { e.classList.add("pending"); e.classList.remove("fresh", "upstream"); });
    svg && svg.querySelectorAll("g.node.current, g.node.done").forEach((n) => n.classList.remove("current", "done"));
    for (let i = 0; i <= at; i++) {
      const s = DATA.steps[i];
      s.sends.forEach((x) => { const e = byId(x.edge); if (e) { e.classList.remove("pending"); if (i === at) e.classList.add("fresh"); } });
      const n = byId(s.node);
      if (n && i < at) n.classList.add("done");
    }
    const panel = document.getElementById("step");
    panel.replaceChildren();
    document.querySelectorAll(".code li.now").forEach((li) => li.classList.remove("now"));
    document.getElementById("counter").textContent = at < 0 ? "" : t("step", { i: at + 1, n: DATA.steps.length });
    document.getElementById("prev").disabled = at < 0;
    document.getElementById("next").disabled = at >= DATA.steps.length - 1;
    if (at < 0) { panel.append(el("p", { text: t("start") })); announce(t("start")); return; }
    const s = DATA.steps[at];
    const node = byId(s.node);
    if (node) { node.classList.remove("done"); node.classList.add("current"); }
    s.upstream_edges.forEach((id) => { const e = byId(id); if (e && !e.classList.contains("pending")) e.classList.add("upstream"); });
    panel.append(el("h2", { text: t("node") + ": " + s.name + " (" + s.op + ")" }));
    const dl = el("dl");
    dl.append(el("dt", { text: t("rule") }), el("dd", { class: "rule", text: ruleText(s) }));
    if (s.kind === "accumulate") {
      dl.append(el("dt", { text: t("branches") }));
      s.branches.forEach((b) => dl.append(el("dd", {}, [el("span", { text: t("from") + " " + b.from + ": " }), valueButton(b)])));
      dl.append(el("dt", { text: t("total") }), el("dd", {}, [valueButton(s.upstream)]));
    } else {
      dl.append(el("dt", { text: t("upstream") }), el("dd", {}, [valueButton(s.upstream)]));
      if (s.kind === "op") {
        dl.append(el("dt", { text: t("sends") }));
        s.sends.forEach((x) => dl.append(el("dd", { class: "send" }, [el("span", { text: t("to") + " " + x.to + ": " }), valueButton(x)])));
      }
    }
    dl.append(el("dt", { text: t("lines") }));
    if (s.lines.length) {
      s.lines.forEach((ln) => {
        const li = document.querySelector('.code li[data-line="' + ln + '"]');
        if (li) li.classList.add("now");
        dl.append(el("dd", {}, [el("code", { text: DATA.code[ln - 1].trim() })]));
      });
      const first = document.querySelector(".code li.now");
      if (first && first.scrollIntoView) first.scrollIntoView({ block: "nearest" });
    } else {
      dl.append(el("dd", { text: s.kind === "seed" ? "dout" : t("nocode") }));
    }
    panel.append(dl);
    if (at === DATA.steps.length - 1) panel.append(el("p", { text: t("done") }));
    announce(t("step", { i: at + 1, n: DATA.steps.length }) + ": " + s.name + ". " + ruleText(s));
  }

  function announce(text) { document.getElementById("live").textContent = text; }
  function go(i) { at = Math.max(-1, Math.min(DATA.steps.length - 1, i)); render(); }
  function play() {
    if (timer) { stop(); return; }
    if (at >= DATA.steps.length - 1) go(-1);
    document.getElementById("play").textContent = t("pause");
    timer = setInterval(() => { if (at >= DATA.steps.length - 1) stop(); else go(at + 1); }, 1200);
  }
  function stop() { clearInterval(timer); timer = null; document.getElementById("play").textContent = t("play"); }

  function labels() {
    document.documentElement.lang = lang;
    document.title = t("title") + " — " + DATA.graph;
    document.getElementById("title").textContent = t("title") + ": " + DATA.graph;
    document.getElementById("graph-caption").textContent = t("graph");
    document.getElementById("code-title").textContent = t("code");
    document.getElementById("keys").textContent = t("keys");
    ["prev", "next", "reset"].forEach((k) => { document.getElementById(k).textContent = t(k); });
    document.getElementById("play").textContent = timer ? t("pause") : t("play");
    document.getElementById("lang").value = lang;
    document.getElementById("lang-label").textContent = t("language");
  }

  document.getElementById("prev").addEventListener("click", () => { stop(); go(at - 1); });
  document.getElementById("next").addEventListener("click", () => { stop(); go(at + 1); });
  document.getElementById("reset").addEventListener("click", () => { stop(); go(-1); });
  document.getElementById("play").addEventListener("click", play);
  document.getElementById("lang").addEventListener("change", (e) => { lang = e.target.value; labels(); render(); });
  document.addEventListener("keydown", (e) => {
    if (e.target && (e.target.tagName === "SELECT" || e.target.tagName === "INPUT")) return;
    if (e.key === "ArrowRight") { stop(); go(at + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); go(at - 1); e.preventDefault(); }
    else if (e.key === "Home") { stop(); go(-1); e.preventDefault(); }
    else if (e.key === " " && !(e.target && e.target.tagName === "BUTTON")) { play(); e.preventDefault(); }
  });
  window.rgPlayer = { go: go, get at() { return at; }, steps: DATA.steps.length };
  labels();
  render();
})();
