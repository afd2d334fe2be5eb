/*
 * Live updates and small page behaviours that would otherwise need inline
 * handlers (forbidden by the Content Security Policy).
 *
 * - Connects to the same-origin Socket.IO server when <body data-live="1"> (a
 *   logged-in user) or the page watches a tender (.countdown[data-tender]: anonymous
 *   visitors get the tender's public pushes too), and the vendored client (window.io) is
 *   loaded.
 * - Live.order(current, incoming): how a push's sequence number compares with what the
 *   page shows ("stale": ignore it, "next", or "gap": pushes were missed, resynchronise).
 * - Updates #unread-counter (and the menu summary's copy) on the "notification" event.
 * - On the "accreditation" event (the operator's decision on an organization), shows its
 *   message in the page's language (Platform.t; the push's own `message` when it names no
 *   organization) and updates what the page says about that organization: elements with
 *   data-accreditation-org="<id>" and data-accreditation="badge" (text and badge-<status>
 *   class) or "reason" (text), and those with data-accreditation-shown="<status> ..."
 *   (visible only while the organization has one of those statuses: the "you cannot bid
 *   until accredited" notice, the bid button).
 * - window.Live = {socket, on(event, fn)} lets page scripts subscribe to
 *   further events; subscriptions made before the socket exists are queued.
 * - <form data-confirm="Question?"> asks window.confirm before submitting (a submit button's
 *   own data-confirm, empty for none, overrides it: "Send for approval" asks nothing).
 */
(function () {
  "use strict";

  const pending = [];

  // The page's words (Platform.t, loaded after this file); the English source until then.
  function t(key, params) {
    if (window.Platform && typeof window.Platform.t === "function") return window.Platform.t(key, params);
    return key.replace(/\{(\w+)\}/g, (m, name) => (params && name in params ? String(params[name]) : m));
  }

  // The word of an organization's accreditation status (core.i18n.LABELS "accreditation").
  function statusWord(status) {
    switch (status) {
      case "accredited": return t("accredited");
      case "pending": return t("pending");
      case "rejected": return t("rejected");
      case "blocked": return t("blocked");
      default: return status;
    }
  }

  // The live notice of an operator's decision.
  function accreditationText(payload) {
    const org = payload.organization_name;
    if (!org) return payload.message || "";
    const reason = payload.reason ? " " + payload.reason : "";
    switch (payload.status) {
      case "accredited": return t("{org} is now accredited.", { org: org });
      case "rejected": return t("{org}: accreditation rejected.", { org: org }) + reason;
      case "blocked": return t("{org}: accreditation blocked.", { org: org }) + reason;
      default: return t("{org}: accreditation {status}.", { org: org, status: statusWord(payload.status) }) + reason;
    }
  }

  const Live = {
    socket: null,
    on(event, fn) {
      if (typeof fn !== "function") return Live;
      if (Live.socket) {
        Live.socket.on(event, fn);
      } else {
        pending.push([event, fn]);
      }
      return Live;
    },
  };
  window.Live = Live;

  // Pushes carry a number that grows with each change of what they tell (the extension
  // count, the offers version); two web processes may deliver them out of order.
  Live.order = function (current, incoming) {
    const next = Number(incoming);
    if (!Number.isFinite(next)) return "stale";
    if (current === null || current === undefined || !Number.isFinite(Number(current))) return "next";
    if (next <= Number(current)) return "stale";
    return next === Number(current) + 1 ? "next" : "gap";
  };

  // The inbox link's counter and its copy on the folded menu's summary (narrow screens).
  function setUnread(value) {
    const n = Number.parseInt(value, 10);
    const count = Number.isFinite(n) && n > 0 ? n : 0;
    document.querySelectorAll("#unread-counter, .nav-menu > summary .counter").forEach((el) => {
      el.textContent = String(count);
      el.classList.toggle("hidden", count === 0);
    });
  }

  // A flash message pushed live (same look as the server-rendered ones).
  function showFlash(text, kind) {
    let list = document.querySelector("ul.flashes");
    if (!list) {
      list = document.createElement("ul");
      list.className = "flashes";
      list.setAttribute("role", "status");
      const main = document.querySelector("main") || document.body;
      main.insertBefore(list, main.firstChild);
    }
    const item = document.createElement("li");
    item.className = "flash flash-" + (kind || "info");
    item.textContent = text;
    list.appendChild(item);
  }
  Live.flash = showFlash;

  // The operator's decision, applied to what the page shows of that organization.
  function applyAccreditation(payload) {
    const org = String(payload.organization_id);
    const status = String(payload.status || "");
    document.querySelectorAll("[data-accreditation-org]").forEach((el) => {
      if (el.dataset.accreditationOrg !== org) return;
      const part = el.dataset.accreditation;
      if (part === "badge") {
        Array.from(el.classList)
          .filter((name) => name.startsWith("badge-"))
          .forEach((name) => el.classList.remove(name));
        el.classList.add("badge-" + status);
        el.textContent = statusWord(status);
      } else if (part === "reason") {
        el.textContent = payload.reason || "";
      }
      if (el.dataset.accreditationShown !== undefined && el.dataset.biddingOver !== "1") {
        el.classList.toggle("hidden", !el.dataset.accreditationShown.split(/\s+/).includes(status));
      }
    });
  }
  Live.applyAccreditation = applyAccreditation;

  function connect() {
    if (!document.body) return;
    const watching = document.querySelector(".countdown[data-tender]");
    if (document.body.dataset.live !== "1" && !watching) return;
    if (typeof window.io !== "function") return;
    const socket = window.io({ transports: ["websocket", "polling"] });
    Live.socket = socket;
    socket.on("notification", (payload) => {
      if (payload && Object.prototype.hasOwnProperty.call(payload, "unread")) {
        setUnread(payload.unread);
      }
    });
    socket.on("accreditation", (payload) => {
      if (!payload) return;
      if (payload.organization_id !== undefined && payload.status) applyAccreditation(payload);
      const text = accreditationText(payload);
      if (text) showFlash(text, payload.status === "accredited" ? "success" : "error");
    });
    while (pending.length) {
      const [event, fn] = pending.shift();
      socket.on(event, fn);
    }
  }

  function bindConfirm() {
    // Capture phase so the check runs before any other submit listener.
    document.addEventListener(
      "submit",
      (ev) => {
        const form = ev.target;
        if (!(form instanceof HTMLFormElement)) return;
        const button = ev.submitter;
        const question =
          button && button.dataset.confirm !== undefined ? button.dataset.confirm : form.dataset.confirm;
        if (question && !window.confirm(question)) {
          ev.preventDefault();
          ev.stopImmediatePropagation();
        }
      },
      true
    );
  }

  bindConfirm();

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
