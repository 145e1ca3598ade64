// The desk's little script: keyboard shortcuts, decisions and bulk
// actions over JSON with the page's CSRF token. Pages work without it.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const status = document.getElementById("status");
  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "err" : "";
  }
  async function post(path, body) {
    const r = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    if (!r.ok) {
      const t = await r.text();
      throw new Error(t.trim() || r.status + "");
    }
    return r;
  }
  function reason() {
    const s = document.getElementById("dismiss-reason");
    return s ? s.value : "false_positive";
  }
  function note() {
    const n = document.getElementById("note");
    return n ? n.value : "";
  }
  async function decide(keys, action) {
    if (!keys.length) { say("Select a listing first.", true); return false; }
    try {
      const r = await post("/api/decide", { keys, action, reason: reason(), note: note() });
      const out = await r.json();
      for (const k of out.decided) {
        const row = document.querySelector('tr[data-key="' + CSS.escape(k) + '"]');
        if (row) {
          row.classList.add("decided");
          row.querySelector(".state").textContent = action === "confirm" ? "confirmed" : "dismissed";
          const box = row.querySelector(".sel");
          if (box) box.checked = false;
        }
      }
      say((action === "confirm" ? "Confirmed " : "Dismissed ") + out.decided.length +
        (out.cases.length ? "; cases " + out.cases.join(", ") : "") +
        (out.problems.length ? "; problems: " + out.problems.join("; ") : ""), out.problems.length > 0);
      return true;
    } catch (e) { say("Not saved: " + e.message, true); return false; }
  }

  // ---- queue: a current row, moved with j/k
  const queue = document.getElementById("queue");
  let current = -1;
  function rows() { return queue ? Array.from(queue.querySelectorAll("tbody tr[data-key]")) : []; }
  function setCurrent(i) {
    const rs = rows();
    if (!rs.length) return;
    current = Math.max(0, Math.min(i, rs.length - 1));
    rs.forEach((r, j) => r.classList.toggle("current", j === current));
    rs[current].focus({ preventScroll: true });
    rs[current].scrollIntoView({ block: "nearest" });
  }
  function currentKey() {
    const rs = rows();
    return current >= 0 && rs[current] ? rs[current].dataset.key : null;
  }
  function selected() {
    return rows().filter(r => r.querySelector(".sel").checked).map(r => r.dataset.key);
  }
  if (queue) setCurrent(0);
  const listing = document.querySelector(".listing[data-key]");

  document.addEventListener("keydown", async (ev) => {
    if (ev.target.closest("input, select, textarea") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (queue) {
      if (ev.key === "j" || ev.key === "ArrowDown") { setCurrent(current + 1); ev.preventDefault(); }
      else if (ev.key === "k" || ev.key === "ArrowUp") { setCurrent(current - 1); ev.preventDefault(); }
      else if (ev.key === "x") { const r = rows()[current]; if (r) { const b = r.querySelector(".sel"); b.checked = !b.checked; } }
      else if (ev.key === "o" || ev.key === "Enter") { const r = rows()[current]; if (r) location.href = r.querySelector(".title a").href; }
      else if (ev.key === "c" || ev.key === "d") {
        const k = currentKey();
        if (k && await decide([k], ev.key === "c" ? "confirm" : "dismiss")) setCurrent(current + 1);
      }
    } else if (listing) {
      if (ev.key === "c") decide([listing.dataset.key], "confirm");
      else if (ev.key === "d") decide([listing.dataset.key], "dismiss");
    }
  });

  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll("tbody .sel").forEach(b => { b.checked = all.checked; });
  });
  document.querySelectorAll("[data-bulk]").forEach(btn => btn.addEventListener("click", async () => {
    const keys = selected();
    if (btn.dataset.bulk === "export") {
      if (!keys.length) { say("Select listings to export.", true); return; }
      try {
        const r = await post("/api/export", { keys });
        const url = URL.createObjectURL(await r.blob());
        const a = document.createElement("a");
        a.href = url; a.download = "knockoff-selection.csv";
        document.body.appendChild(a); a.click(); a.remove();
        say("Exported " + keys.length + " listings.");
      } catch (e) { say("Not exported: " + e.message, true); }
    } else {
      decide(keys, btn.dataset.bulk);
    }
  }));
  document.querySelectorAll("[data-one]").forEach(btn => btn.addEventListener("click", () => {
    if (listing) decide([listing.dataset.key], btn.dataset.one);
  }));
  document.querySelectorAll("[data-seller]").forEach(btn => btn.addEventListener("click", async () => {
    try {
      const r = await post("/api/seller", { platform: btn.dataset.platform, seller: btn.dataset.name, status: btn.dataset.seller, note: note() });
      const out = await r.json();
      say("Seller marked " + btn.dataset.seller + (out.decided.length ? "; " + out.decided.length + " listings cleared" : ""));
    } catch (e) { say("Not saved: " + e.message, true); }
  }));

  // ---- cases: bulk moves
  document.querySelectorAll("[data-move]").forEach(btn => btn.addEventListener("click", async () => {
    const ids = Array.from(document.querySelectorAll("#cases tbody tr[data-case]"))
      .filter(r => r.querySelector(".sel").checked).map(r => r.dataset.case);
    if (!ids.length) { say("Select cases first.", true); return; }
    const ref = document.getElementById("ipp-ref").value.trim();
    try {
      const r = await post("/api/cases/move", { ids, state: btn.dataset.move, reference: btn.dataset.move === "submitted" && ref ? ref : null });
      const out = await r.json();
      for (const c of out.moved) {
        const row = document.querySelector('tr[data-case="' + CSS.escape(c.id) + '"]');
        if (row) { row.querySelector(".state").textContent = c.state; row.querySelector(".ref").textContent = c.ipp_ref || ""; row.querySelector(".sel").checked = false; }
      }
      say("Moved " + out.moved.map(c => c.id).join(", ") + " to " + btn.dataset.move);
    } catch (e) { say("Not moved: " + e.message, true); }
  }));
})();
