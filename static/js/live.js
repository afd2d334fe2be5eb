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
 * - Updates #unread-counter on the "notification" event.
 * - window.Live = {socket, on(event, fn)} lets page scripts subscribe to
 *   further events; subscriptions made before the socket exists are queued.
 * - <form data-confirm="Question?"> asks window.confirm before submitting.
 */
(function () {
  "use strict";

  const pending = [];

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

  function setUnread(value) {
    const el = document.getElementById("unread-counter");
    if (!el) return;
    const n = Number.parseInt(value, 10);
    const count = Number.isFinite(n) && n > 0 ? n : 0;
    el.textContent = String(count);
    el.classList.toggle("hidden", count === 0);
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
      if (payload && payload.message) showFlash(payload.message, payload.status === "accredited" ? "success" : "error");
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
        const question = form.dataset.confirm;
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
