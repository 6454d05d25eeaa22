// Shared by every page: the session, calls to the API with the CSRF token, and DOM building.
// Everything shown is set as text (textContent), never parsed as HTML, so nothing from the data can
// become markup.

let csrfToken;

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children)
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}

export async function api(path, options = {}) {
  const response = await fetch(path, {
    method: options.method ?? "GET",
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(csrfToken === undefined ? {} : { "x-csrf-token": csrfToken }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  if (response.status === 401 && !location.pathname.endsWith("/login.html")) {
    location.href = "/login.html";
    throw new Error("log in first");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error ?? `HTTP ${response.status}`);
  return data;
}

const PAGES = [
  ["overview.html", "Overview"],
  ["lag.html", "Lag"],
  ["conflicts.html", "Conflicts"],
  ["dlq.html", "DLQ"],
  ["audit.html", "Audit"],
];

/** Checks the session, draws the navigation; resolves with the role. */
export async function startPage() {
  const session = await api("/api/session");
  csrfToken = session.csrfToken;
  const nav = el(
    "nav",
    {},
    el("strong", {}, "Tandem console"),
    PAGES.map(([href, label]) =>
      el("a", { href: `/${href}`, class: location.pathname === `/${href}` ? "current" : undefined }, label),
    ),
    el("span", { class: "who", id: "role" }, session.role),
    el(
      "button",
      {
        type: "button",
        onclick: async () => {
          await api("/api/logout", { method: "POST" });
          location.href = "/login.html";
        },
      },
      "Log out",
    ),
  );
  document.body.prepend(nav);
  return session.role;
}

export function setCsrfToken(token) {
  csrfToken = token;
}

export function show(target, ...children) {
  target.replaceChildren(...children.flat());
}

export function time(iso) {
  return iso === undefined || iso === null ? "never" : iso.replace("T", " ").slice(0, 19) + "Z";
}

export function number(value) {
  return value === undefined || value === null ? "-" : String(value);
}

export function message(text, kind = "info") {
  return el("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
