import { el, number, show, startPage, svg, time } from "/common.js";

const content = document.getElementById("content");
await startPage();

const stateClass = (state) => `state state-${state.replaceAll(" ", "-")}`;

/** Sites on a circle, each link an arrow coloured by its state. */
function map(overview) {
  const size = 360;
  const radius = 120;
  const centre = size / 2;
  const places = new Map(
    overview.sites.map((site, index) => {
      const angle = (2 * Math.PI * index) / overview.sites.length - Math.PI / 2;
      return [site.site, { x: centre + radius * Math.cos(angle), y: centre + radius * Math.sin(angle) }];
    }),
  );
  const colours = {
    running: "#2e9b47",
    "paused by schedule": "#5b7bc0",
    behind: "#d39b12",
    down: "#c62828",
    "data-lost": "#c62828",
  };
  const drawing = svg("svg", {
    class: "map",
    width: size,
    height: size,
    viewBox: `0 0 ${size} ${size}`,
    role: "img",
  });
  drawing.append(
    svg(
      "defs",
      {},
      svg(
        "marker",
        {
          id: "arrow",
          viewBox: "0 0 10 10",
          refX: 10,
          refY: 5,
          markerWidth: 6,
          markerHeight: 6,
          orient: "auto",
        },
        svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }),
      ),
    ),
  );
  for (const link of overview.links) {
    const a = places.get(link.from);
    const b = places.get(link.to);
    if (!a || !b) continue;
    // Two-way links side by side: each arrow is moved off the centre line to its right.
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length = Math.hypot(dx, dy) || 1;
    const ox = (-dy / length) * 7;
    const oy = (dx / length) * 7;
    const shorten = 34 / length;
    const line = svg("line", {
      x1: a.x + dx * shorten + ox,
      y1: a.y + dy * shorten + oy,
      x2: b.x - dx * shorten + ox,
      y2: b.y - dy * shorten + oy,
      stroke: colours[link.state] ?? "#555",
      "stroke-width": 3,
      "marker-end": "url(#arrow)",
    });
    line.append(svg("title", {}, `${link.link}: ${link.state}, lag ${number(link.lagRecords)} records`));
    drawing.append(line);
  }
  for (const site of overview.sites) {
    const p = places.get(site.site);
    drawing.append(
      svg("circle", {
        cx: p.x,
        cy: p.y,
        r: 30,
        fill: site.kafkaReachable ? "#fff" : "#fbdada",
        stroke: "#1d2330",
        "stroke-width": 2,
      }),
      svg("text", { x: p.x, y: p.y + 5, "text-anchor": "middle", "font-weight": 600 }, site.site),
    );
  }
  return drawing;
}

function siteTable(overview) {
  const head = [
    "site",
    "Kafka",
    "calls",
    "audio pending",
    "audio failed",
    "users",
    "DLQ",
    "open conflicts",
    "records lost",
  ];
  return el(
    "table",
    { id: "sites" },
    el(
      "tr",
      {},
      head.map((h) => el("th", {}, h)),
    ),
    overview.sites.map((s) =>
      el(
        "tr",
        { "data-site": s.site },
        el("td", {}, s.site),
        el("td", {}, s.kafkaReachable ? "up" : "DOWN"),
        el("td", { class: "num" }, number(s.figures?.calls)),
        el("td", { class: "num" }, number(s.figures?.audioPending)),
        el("td", { class: "num" }, number(s.figures?.audioFailed)),
        el("td", { class: "num" }, number(s.figures?.users)),
        el("td", { class: "num" }, number(s.dlqRecords)),
        el("td", { class: "num" }, number(s.figures?.openConflicts)),
        el("td", { class: "num" }, String(s.recordsLost)),
      ),
    ),
  );
}

function linkTable(overview) {
  const head = [
    "link",
    "state",
    "lag (records)",
    "lag (s)",
    "last heartbeat",
    "schedule",
    "next change",
    "why",
  ];
  return el(
    "table",
    { id: "links" },
    el(
      "tr",
      {},
      head.map((h) => el("th", {}, h)),
    ),
    overview.links.map((l) =>
      el(
        "tr",
        { "data-link": l.link },
        el("td", {}, l.link),
        el("td", {}, el("span", { class: stateClass(l.state), "data-field": "state" }, l.state)),
        el("td", { class: "num", "data-field": "lag-records" }, number(l.lagRecords)),
        el("td", { class: "num", "data-field": "lag-seconds" }, number(l.lagSeconds)),
        el("td", {}, time(l.lastHeartbeatAt)),
        el("td", {}, l.cap ? `${l.schedule}, cap ${l.cap}` : l.schedule),
        el(
          "td",
          {},
          l.nextChange ? `${l.nextChange.opens ? "opens" : "closes"} ${time(l.nextChange.at)}` : "-",
        ),
        el("td", {}, l.why),
      ),
    ),
  );
}

function draw(overview) {
  show(
    content,
    el("p", {}, `Sampled ${time(overview.at)}; updates live.`),
    el(
      "div",
      { style: "display:flex;gap:1.5rem;align-items:flex-start;flex-wrap:wrap" },
      map(overview),
      el("div", {}, el("h2", {}, "Sites"), siteTable(overview)),
    ),
    el("h2", {}, "Links"),
    linkTable(overview),
  );
}

const events = new EventSource("/api/events");
events.addEventListener("overview", (event) => draw(JSON.parse(event.data)));
