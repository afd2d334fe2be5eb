/*
 * The notice page, live: joins the tender's room, and when the deadline moves (the 30-minute
 * rule) updates the deadline text and the countdown at once, correcting for this computer's
 * clock with the server time sent along. On every (re)connect the current state is fetched.
 */
(function () {
  "use strict";

  function format(iso, zone) {
    try {
      return new Intl.DateTimeFormat("ru-RU", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
      }).format(new Date(iso));
    } catch (e) {
      return iso;
    }
  }

  function start() {
    const el = document.querySelector(".countdown[data-tender]");
    if (!el || !window.Live) return;
    const tenderId = Number(el.dataset.tender);
    const zone = el.dataset.timezone || "Europe/Moscow";
    const text = document.getElementById("deadline-text");

    function apply(deadline, serverTime) {
      if (!deadline) return;
      if (window.Countdown) window.Countdown.update(tenderId, deadline, serverTime);
      if (text) text.textContent = format(deadline, zone);
      el.dataset.deadline = deadline;
    }

    window.Live.on("connect", () => {
      window.Live.socket.emit("watch_tender", { tender_id: tenderId }, (state) => {
        if (state && state.ok) {
          apply(state.deadline, state.server_time);
          el.dataset.watching = "1"; // live from now on (tests and styles can rely on it)
        }
      });
    });
    window.Live.on("deadline_extended", (event) => {
      if (!event || event.tender_id !== tenderId) return;
      apply(event.deadline, event.server_time);
      if (window.Live.flash) {
        window.Live.flash("The deadline was extended to " + format(event.deadline, zone) +
          " (an offer changed in the last minutes).", "info");
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
