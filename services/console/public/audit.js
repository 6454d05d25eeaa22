import { api, el, message, show, startPage } from "/common.js";

const content = document.getElementById("content");
const role = await startPage();
const { sites, links } = await api("/api/links");
const boxes = sites.map((s) => el("input", { type: "checkbox", name: "site", value: s, checked: true }));
const tenant = el("input", {
  name: "tenant",
  id: "tenant",
  placeholder: "tenant UUID (all when empty)",
  size: 38,
});
const result = el("div", { id: "verify-result" });
const catchUpStatus = el("div", { id: "catch-up-status" });

async function verify(event) {
  event.preventDefault();
  show(result, "Verifying…");
  try {
    const report = await api("/api/audit/verify", {
      method: "POST",
      body: { sites: boxes.filter((b) => b.checked).map((b) => b.value), tenant: tenant.value },
    });
    show(
      result,
      el(
        "p",
        { id: "verdict" },
        `${report.sites.join(", ")}: ${report.consistent ? "consistent" : "NOT consistent"}; buckets read ${report.bucketsRead} of ${report.bucketsCompared}`,
      ),
      el(
        "table",
        {},
        el("tr", {}, el("th", {}, "site"), el("th", {}, "calls"), el("th", {}, "users")),
        report.sites.map((s) =>
          el(
            "tr",
            {},
            el("td", {}, s),
            el("td", { class: "num" }, String(report.calls[s])),
            el("td", { class: "num" }, String(report.users[s])),
          ),
        ),
      ),
      report.differences.length === 0
        ? el("p", {}, "No difference.")
        : el(
            "table",
            { id: "differences" },
            el(
              "tr",
              {},
              ["kind", "id", "site", "cause", "detail"].map((h) => el("th", {}, h)),
            ),
            report.differences
              .slice(0, 500)
              .map((d) =>
                el(
                  "tr",
                  {},
                  el("td", {}, d.kind),
                  el("td", {}, d.id),
                  el("td", {}, d.site),
                  el("td", {}, d.cause),
                  el("td", {}, d.detail),
                ),
              ),
          ),
    );
  } catch (error) {
    show(result, message(error.message, "error"));
  }
}

async function catchUp(link) {
  try {
    await api("/api/links/catch-up", { method: "POST", body: { link } });
    show(catchUpStatus, message(`Catch-up of ${link} started; the overview shows its lag.`));
  } catch (error) {
    show(catchUpStatus, message(error.message, "error"));
  }
}

show(
  content,
  el("h2", {}, "Verify"),
  el(
    "form",
    { class: "filters", onsubmit: verify },
    boxes.map((b) => el("label", {}, b.value, b)),
    el("label", {}, "Tenant", tenant),
    el("button", { type: "submit", id: "verify" }, "Run verify"),
  ),
  result,
  el("h2", {}, "Manual catch-up"),
  el("p", {}, "Runs a link now, whatever its schedule, until it has caught up (tandem replicate)."),
  el(
    "table",
    {},
    el("tr", {}, el("th", {}, "link"), el("th", {}, "schedule"), el("th", {}, "")),
    links.map((l) =>
      el(
        "tr",
        {},
        el("td", {}, l.link),
        el("td", {}, l.schedule),
        el(
          "td",
          {},
          el(
            "button",
            {
              type: "button",
              disabled: role !== "admin" || !l.catchUp,
              title: l.catchUp ? undefined : "no --bridge-url for its target site",
              onclick: () => catchUp(l.link),
            },
            "Catch up now",
          ),
        ),
      ),
    ),
  ),
  catchUpStatus,
);
