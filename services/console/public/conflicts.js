import { api, el, message, show, startPage, time } from "/common.js";

const content = document.getElementById("content");
const role = await startPage();
const status = el("div", { id: "status" });
const list = el("div", { id: "conflicts" });
show(content, status, list);

async function resolve(conflict, value) {
  try {
    await api("/api/conflicts/resolve", {
      method: "POST",
      body: { site: conflict.site, userId: conflict.userId, field: conflict.field, value },
    });
    show(
      status,
      message(
        `Resolution of ${conflict.field} of user ${conflict.userId} published at ${conflict.site}; it clears at each site as the site applies it.`,
      ),
    );
  } catch (error) {
    show(status, message(error.message, "error"));
  }
}

function card(conflict) {
  const admin = role === "admin";
  const entered = el("input", {
    "aria-label": "value as JSON",
    placeholder: '"value as JSON"',
    size: 30,
    disabled: !admin,
  });
  return el(
    "div",
    {
      class: "conflict",
      "data-user": conflict.userId,
      "data-site": conflict.site,
      "data-field": conflict.field,
    },
    el(
      "div",
      {},
      el("strong", {}, `${conflict.field}`),
      ` of user ${conflict.userId} (tenant ${conflict.tenantId}), detected ${time(conflict.detectedAt)}; shown now: ${JSON.stringify(conflict.shown)}`,
    ),
    el(
      "div",
      {},
      conflict.sides.map((side) =>
        el(
          "div",
          { class: "side", "data-origin": side.site },
          el("pre", {}, JSON.stringify(side.value, null, 1)),
          el("div", {}, `from ${side.site}`),
          el("div", {}, `clock ${time(side.at)} +${side.logical}`),
          el("div", {}, `event ${side.eventId}`),
          el(
            "button",
            { type: "button", class: "keep", disabled: !admin, onclick: () => resolve(conflict, side.value) },
            `Keep ${side.site}'s`,
          ),
        ),
      ),
    ),
    el(
      "div",
      {},
      entered,
      el(
        "button",
        {
          type: "button",
          class: "enter",
          disabled: !admin,
          onclick: () => {
            let value;
            try {
              value = JSON.parse(entered.value);
            } catch {
              show(status, message("the value is not JSON (a text needs quotes)", "error"));
              return;
            }
            void resolve(conflict, value);
          },
        },
        "Resolve with this value",
      ),
    ),
  );
}

/** What the queue on the page was read at: per site, its open conflicts' digest. */
let shown;
const digestsOf = (sites) =>
  sites
    .map(({ site, digest }) => `${site}:${digest}`)
    .sort()
    .join(",");

async function refresh() {
  const { sites } = await api("/api/conflicts");
  shown = digestsOf(sites);
  show(
    list,
    role === "admin" ? [] : el("p", {}, "Viewers see the queue; only an admin resolves."),
    sites.map((site) =>
      el(
        "section",
        { "data-site": site.site },
        el("h2", {}, `${site.site}: ${site.conflicts.length} open`),
        site.error ? message(site.error, "error") : [],
        site.conflicts.map(card),
      ),
    ),
  );
}
await refresh();
// One read at a time, and one more after it when a change came meanwhile: reads answered out of order
// would leave the page showing an older queue than the samples say. A failed read is tried at the next sample.
let reading;
let readAgain = false;
function refreshSoon() {
  if (reading !== undefined) {
    readAgain = true;
    return;
  }
  reading = refresh()
    .catch(() => (shown = undefined))
    .finally(() => {
      reading = undefined;
      if (readAgain) {
        readAgain = false;
        refreshSoon();
      }
    });
}
const events = new EventSource("/api/events");
// The queue is read again when a sample's open conflicts differ from those the page shows, not at every
// sample. Compared with the page's own read, not with the previous sample: a conflict opened and resolved
// between two samples would leave both samples alike and its card on the page. By digest, not count, which
// stays the same when one is resolved while another opens.
events.addEventListener("overview", (event) => {
  const sampled = digestsOf(
    JSON.parse(event.data).sites.map((site) => ({
      site: site.site,
      digest: site.figures?.openConflictsDigest,
    })),
  );
  if (sampled !== shown) refreshSoon();
});
