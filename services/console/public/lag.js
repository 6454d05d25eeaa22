/* global uPlot */
import { api, el, show, startPage } from "/common.js";

const content = document.getElementById("content");
await startPage();

const charts = new Map();

function chartOf(link, samples) {
  const data = [
    samples.map((s) => s.atMs / 1000),
    samples.map((s) => s.lagRecords ?? null),
    samples.map((s) => s.lagSeconds ?? null),
    samples.map((s) => (s.recordsPerSecond === undefined ? null : Math.round(s.recordsPerSecond * 10) / 10)),
  ];
  const existing = charts.get(link);
  if (existing) {
    existing.setData(data);
    return;
  }
  const box = el("div", { class: "chart", "data-link": link }, el("h2", {}, link));
  content.append(box);
  const options = {
    width: Math.min(1100, window.innerWidth - 60),
    height: 240,
    scales: { x: { time: true }, seconds: {}, rate: {} },
    series: [
      {},
      { label: "lag (records)", stroke: "#c62828", scale: "y" },
      { label: "lag (s)", stroke: "#d39b12", scale: "seconds" },
      { label: "forwarded (records/s)", stroke: "#2e9b47", scale: "rate" },
    ],
    axes: [
      {},
      { label: "records", scale: "y" },
      { label: "seconds", scale: "seconds", side: 1 },
      { scale: "rate", show: false },
    ],
  };
  charts.set(link, new uPlot(options, data, box));
}

async function refresh() {
  const { links } = await api("/api/lag");
  if (charts.size === 0)
    show(content, el("p", {}, "Kept in the console's memory over its history window (--history)."));
  for (const [link, samples] of Object.entries(links)) chartOf(link, samples);
}
await refresh();
setInterval(() => void refresh(), 5000);
