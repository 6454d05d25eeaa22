import { api, el, message, show, startPage, time } from "/common.js";

const content = document.getElementById("content");
await startPage();
const sites = (await api("/api/links")).sites;
const site = el(
  "select",
  { name: "site", id: "site" },
  el("option", { value: "" }, "every site"),
  sites.map((s) => el("option", { value: s }, s)),
);
const reason = el("input", { name: "reason", id: "reason", placeholder: "e.g. invalid-value" });
const since = el("input", { name: "since", id: "since", type: "datetime-local" });
const until = el("input", { name: "until", id: "until", type: "datetime-local" });
const summary = el("div", { id: "summary" });
const table = el("div");
const iso = (local) => (local.value ? new Date(local.value).toISOString() : "");
// Answers can arrive out of order (the page's first load is slow while the servers read every site's DLQ):
// only the newest request's answer is shown, so a filter is never answered by an older, unfiltered load.
let newestLoad = 0;

async function load() {
  const thisLoad = ++newestLoad;
  const query = new URLSearchParams({
    site: site.value,
    reason: reason.value,
    since: iso(since),
    until: iso(until),
  });
  // The previous result goes at once, so that nothing reads it as the answer to this filter.
  show(table);
  show(summary, "Loading…");
  try {
    const result = await api(`/api/dlq?${query}`);
    if (thisLoad !== newestLoad) return;
    show(
      summary,
      el(
        "p",
        {},
        `${result.matching} of the ${result.read} newest dead letters match; ${result.records.length} shown. Reasons: ${result.reasons.map((r) => `${r.reason} (${r.count})`).join(", ") || "none"}`,
      ),
      result.errors.map((e) => message(`${e.site}: ${e.error}`, "error")),
    );
    show(
      table,
      el(
        "table",
        { id: "dlq" },
        el(
          "tr",
          {},
          ["site", "at", "reason", "component", "source", "call", "value"].map((h) => el("th", {}, h)),
        ),
        result.records.map((r) =>
          el(
            "tr",
            {},
            el("td", {}, r.site),
            el("td", {}, time(r.at)),
            el("td", { class: "reason" }, r.reason),
            el("td", {}, r.component),
            el("td", {}, r.source ? `${r.source.topic} [${r.source.partition}] @${r.source.offset}` : "-"),
            el("td", {}, r.callId ?? "-"),
            el(
              "td",
              {},
              r.decoded !== undefined
                ? el("pre", {}, JSON.stringify(r.decoded, null, 1))
                : `${r.valueBytes} bytes${r.decodeError ? `: ${r.decodeError}` : ""}`,
            ),
          ),
        ),
      ),
    );
  } catch (error) {
    if (thisLoad !== newestLoad) return;
    show(summary, message(error.message, "error"));
  }
}

show(
  content,
  el(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        void load();
      },
    },
    el("label", {}, "Site", site),
    el("label", {}, "Reason contains", reason),
    el("label", {}, "Since", since),
    el("label", {}, "Until", until),
    el("button", { type: "submit", id: "filter" }, "Show"),
  ),
  summary,
  table,
);
await load();
