// quota-sentinel team view: renders the team JSON and refreshes it in place (no page reload).
// Every text from the server goes through textContent: project names are user input.
"use strict";

(function () {
  const app = document.getElementById("app");
  const SRC = app.dataset.src;
  const REFRESH_MS = Math.max(1, Number(app.dataset.refresh) || 15) * 1000;
  const SVG = "http://www.w3.org/2000/svg";
  const SEVERITY = { RED: 3, YELLOW: 2, GREEN: 1, UNKNOWN: 0 };
  // A recommendation is coloured like the status that leads to it.
  const TOLD = { PROCEED: "GREEN", PROCEED_SMALL_ONLY: "YELLOW", STOP: "RED" };
  let lastData = null;
  let timer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    return node;
  }

  function pct(value) {
    if (value === null || value === undefined) return "–";
    const rounded = Math.round(value * 10) / 10;
    return (Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)) + "%";
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    const m = Math.round(s / 60);
    if (m < 60) return m + " min";
    const h = Math.floor(m / 60);
    if (h < 24) return h + " h" + (m % 60 ? " " + (m % 60) + " min" : "");
    const d = Math.floor(h / 24);
    return d + " d" + (h % 24 ? " " + (h % 24) + " h" : "");
  }

  function ago(seconds) {
    return seconds === null || seconds === undefined ? "never" : duration(seconds) + " ago";
  }

  function velocity(value) {
    if (value === null || value === undefined) return "velocity unknown";
    if (value <= 0) return "not rising";
    return "+" + (Math.round(value * 10) / 10).toFixed(1) + " %/h";
  }

  function clamp(value) {
    return Math.min(Math.max(value, 0), 100);
  }

  function bar(w) {
    const used = clamp(w.utilization || 0);
    const fill = el("div", { class: "fill" });
    fill.style.width = used + "%";
    const parts = [fill];
    const projected = w.projected_at_reset;
    if (projected !== null && projected !== undefined && projected > used) {
      const ghost = el("div", { class: "projected", title: pct(projected) + " projected at reset" });
      ghost.style.left = used + "%";
      ghost.style.width = clamp(projected) - used + "%";
      parts.push(ghost);
    }
    const cap = el("div", { class: "cap", title: "cap " + pct(w.effective_cap) });
    cap.style.left = clamp(w.effective_cap) + "%";
    parts.push(cap);
    let label = pct(w.utilization) + " used, cap " + pct(w.effective_cap);
    if (projected !== null && projected !== undefined) label += ", " + pct(projected) + " projected at reset";
    return el("div", { class: "bar", role: "img", "aria-label": label }, parts);
  }

  function sparkline(w, generatedAt) {
    const points = w.history || [];
    if (points.length < 2) {
      return el("div", { class: "spark" }, el("span", { class: "empty" }, "history builds up with each poll"));
    }
    // The chart spans the window's length, or less while the history is still shorter.
    const start = Math.max(generatedAt - (w.history_span_s || 86400), points[0][0]);
    const span = Math.max(generatedAt - start, 1);
    const caption = el("span", {}, "last " + duration(span));
    const width = 240;
    const height = 40;
    const x = (t) => ((t - start) / span) * width;
    const y = (u) => height - (clamp(u) / 100) * height;
    const coords = points.map(([t, u]) => x(t).toFixed(1) + "," + y(u).toFixed(1));
    const chart = svg("svg", {
      viewBox: "0 0 " + width + " " + height,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": "utilization over the last " + duration(span),
    });
    const first = points[0];
    const last = points[points.length - 1];
    chart.append(
      svg("rect", { class: "frame", x: 0, y: 0, width: width, height: height }),
      svg("polygon", {
        class: "area",
        points: x(first[0]).toFixed(1) + "," + height + " " + coords.join(" ") + " " +
          x(last[0]).toFixed(1) + "," + height,
      }),
      svg("line", { class: "capline", x1: 0, x2: width, y1: y(w.effective_cap), y2: y(w.effective_cap) }),
      svg("polyline", { class: "line", points: coords.join(" ") }),
    );
    return el("div", { class: "spark" }, chart, caption);
  }

  function windowBlock(name, w, generatedAt) {
    const numbers = ["cap " + pct(w.effective_cap), velocity(w.velocity_pct_per_hour)];
    if (w.projected_at_reset !== null && w.projected_at_reset !== undefined) {
      numbers.push(pct(w.projected_at_reset) + " at reset");
    }
    const runsOut = w.runs_out_in_min !== null && w.runs_out_in_min !== undefined;
    return el(
      "section",
      { class: "window status-" + w.status, "data-window": name, "data-status": w.status },
      el(
        "div",
        { class: "window-head" },
        el("span", { class: "window-name" }, name),
        el("span", { class: "badge" }, w.status),
        el("span", { class: "window-used" }, pct(w.utilization)),
      ),
      bar(w),
      el("div", { class: "numbers" }, numbers.join(" · ")),
      el(
        "div",
        { class: "outlook" + (runsOut ? " runs-out" : "") + (w.outlook_code === "ahead_of_pace" ? " ahead" : "") },
        w.outlook || "",
      ),
      sparkline(w, generatedAt),
    );
  }

  function problem(account) {
    if (!account.error || account.error_code === "never_polled") return null;
    const shown = account.data_at
      ? " Showing the last good data, from " + ago(account.polled_age_s + (account.data_age_s || 0)) + "."
      : "";
    return el(
      "div",
      { class: "problem", role: "note" },
      el("strong", {}, (account.error_headline || "The last usage check failed") + ":"),
      account.error + shown,
    );
  }

  function card(account, generatedAt) {
    const who = account.subscribers === 1 ? "1 instance" : account.subscribers + " instances";
    const projects = account.projects && account.projects.length ? ": " + account.projects.join(", ") : "";
    const polled = account.polled_at ? "polled " + ago(account.polled_age_s) : "not polled yet";
    const windows = Object.entries(account.windows || {});
    return el(
      "article",
      {
        class: "card status-" + account.status,
        "data-fingerprint": account.fingerprint,
        "data-provider": account.provider,
        "data-status": account.status,
      },
      el(
        "header",
        {},
        el("h3", {}, account.label),
        el("span", { class: "badge account-status" }, account.stale ? account.status + " · stale" : account.status),
      ),
      el("p", { class: "meta" }, who + projects + " · " + polled),
      problem(account),
      windows.length
        ? windows.map(([name, w]) => windowBlock(name, w, generatedAt))
        : el("p", { class: "empty" }, account.error_code === "never_polled" ? "No data yet: waiting for the first poll." : "No usage data yet."),
    );
  }

  function instanceRow(inst) {
    const shares = inst.providers.map((p) => {
      const a = inst.allocation[p];
      return a ? p + " (" + Math.round(a.share * 100) + "%)" : p;
    });
    return el(
      "tr",
      { "data-instance": inst.instance_id },
      el("td", {}, inst.project, el("span", { class: "sub" }, inst.instance_id.slice(0, 8))),
      el("td", { class: "opt" }, inst.framework),
      el("td", {}, inst.state),
      el("td", { class: "opt" }, ago(inst.heartbeat_age_s)),
      el("td", {}, shares.join(", ") || "–"),
      el(
        "td",
        { class: "told status-" + (TOLD[inst.recommendation] || "UNKNOWN"), title: inst.message },
        el("span", { class: "badge" }, inst.recommendation.replaceAll("_", " ")),
        el("span", { class: "sub" }, inst.message),
      ),
    );
  }

  function alertItem(alert) {
    const status = alert.event === "window.status_changed" ? alert.to : "RED";
    return el(
      "li",
      { class: "alert" },
      el("span", { class: "badge status-" + status }, alert.severity),
      " ",
      el("time", { datetime: alert.at }, new Date(alert.at).toLocaleString()),
      " ",
      alert.message,
    );
  }

  function summary(data) {
    const s = data.summary;
    const accounts = s.accounts === 1 ? "1 account" : s.accounts + " accounts";
    const instances = s.instances === 1 ? "1 instance" : s.instances + " instances";
    const counts = ["RED", "YELLOW", "GREEN", "UNKNOWN"]
      .filter((status) => s.counts[status])
      .map((status) => el("span", { class: "badge status-" + status }, s.counts[status] + " " + status));
    return [accounts, " ", ...counts.flatMap((badge) => [badge, " "]), "· " + instances];
  }

  function render(data) {
    const generatedAt = Date.parse(data.generated_at) / 1000;
    const cards = data.accounts.map((a) => card(a, generatedAt));
    document.getElementById("accounts").replaceChildren(
      ...(cards.length ? cards : [el("p", { class: "empty" }, "No accounts yet: register an instance with POST /v1/instances.")]),
    );
    const rows = data.instances.map(instanceRow);
    document.querySelector("#instances tbody").replaceChildren(
      ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No live instances."))]),
    );
    const alerts = (data.alerts || []).map(alertItem);
    document.getElementById("alerts").replaceChildren(
      ...(alerts.length ? alerts : [el("li", { class: "empty" }, "No alerts in the last day.")]),
    );
    document.getElementById("summary").replaceChildren(...summary(data));
    document.getElementById("updated").textContent =
      "updated " + new Date(generatedAt * 1000).toLocaleTimeString() + " · refreshes every " + duration(REFRESH_MS / 1000);
    document.title = (SEVERITY[data.summary.status] >= 2 ? data.summary.status + " · " : "") + "Team quotas · quota-sentinel";
    app.dataset.generatedAt = data.generated_at;
    lastData = data;
  }

  function connection(message) {
    const node = document.getElementById("connection");
    node.textContent = message || "";
    node.className = "connection" + (message ? " problem" : "");
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      const response = await fetch(SRC, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
      const body = await response.json().catch(() => null);
      if (response.ok && body) {
        render(body);
        connection("");
      } else if (response.status === 401 || response.status === 403) {
        connection((body && body.message) || "Signed out; reload the page to sign in again.");
      } else {
        connection((body && body.message) || "The server answered " + response.status + "; retrying.");
      }
    } catch (error) {
      connection("The server does not answer; retrying. The numbers shown may be old.");
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      await refresh();
      schedule();
    }, REFRESH_MS);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  render(JSON.parse(document.getElementById("initial-data").textContent));
  schedule();
  window.quotaSentinel = { refresh, data: () => lastData };
})();
