/*
 * Live updates and small page behaviours that would otherwise need inline
 * handlers (forbidden by the Content Security Policy).
 *
 * - Connects to the same-origin Socket.IO server when <body data-live="1">
 *   and the vendored client (window.io) is loaded.
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
    if (!document.body || document.body.dataset.live !== "1") return;
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
