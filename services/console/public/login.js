import { api, el, message, setCsrfToken, show } from "/common.js";

const content = document.getElementById("content");
const status = el("div");
const user = el("input", { name: "user", id: "user", autocomplete: "username", value: "admin" });
const password = el("input", {
  name: "password",
  id: "password",
  type: "password",
  autocomplete: "current-password",
});
const form = el(
  "form",
  {
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        setCsrfToken((await api("/api/csrf")).csrfToken);
        await api("/api/login", { method: "POST", body: { user: user.value, password: password.value } });
        location.href = "/overview.html";
      } catch (error) {
        show(status, message(error.message, "error"));
      }
    },
  },
  el("label", {}, "User (admin or viewer)", user),
  el("label", {}, "Password", password),
  el("button", { type: "submit", id: "login" }, "Log in"),
);
show(content, form, status);
