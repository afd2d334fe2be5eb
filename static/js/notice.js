/*
 * The notice page, live: joins the tender's room, and when the deadline moves (the 30-minute
 * rule) updates the deadline text and the countdown at once, correcting for this computer's
 * clock with the server time sent along. On every (re)connect the current state is fetched.
 */
(function () {
  "use strict";

  const format = window.Platform.formatMoment;

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
          if (el.dataset.watching === "1") refetchOffers(); // a reconnect: pushes may be missed
          el.dataset.watching = "1"; // live from now on (tests and styles can rely on it)
        }
      });
    });
    // Offers moved (another bid, a revision, a withdrawal): fetch the offers section again as
    // the server renders it for this viewer (the server decides what this viewer may see).
    // At most one fetch per two seconds, however busy the tender is.
    let refetchTimer = null;
    let lastFetch = 0;
    function refetchOffers() {
      const section = document.getElementById("offers");
      if (!section || !section.dataset.url || refetchTimer) return;
      const wait = Math.max(0, lastFetch + 2000 - Date.now());
      refetchTimer = window.setTimeout(async () => {
        refetchTimer = null;
        lastFetch = Date.now();
        try {
          const resp = await fetch(section.dataset.url, { credentials: "same-origin" });
          if (!resp.ok || resp.status === 204) return;
          const holder = document.createElement("div");
          holder.innerHTML = await resp.text();
          const fresh = holder.querySelector("#offers");
          const current = document.getElementById("offers");
          if (fresh && current) current.replaceWith(fresh);
        } catch (e) {
          /* the next push or a reload brings it */
        }
      }, wait);
    }
    ["offers_changed", "best_prices", "bid_activity"].forEach((name) =>
      window.Live.on(name, (event) => {
        if (event && event.tender_id === tenderId) refetchOffers();
      })
    );

    window.Live.on("deadline_extended", (event) => {
      if (!event || event.tender_id !== tenderId) return;
      apply(event.deadline, event.server_time);
      if (window.Live.flash) {
        window.Live.flash("The deadline was extended to " + format(event.deadline, zone) +
          " (an offer changed in the last minutes).", "info");
      }
    });
    window.Live.on("tender_closed", (event) => {
      if (!event || event.tender_id !== tenderId || !window.Live.flash) return;
      window.Live.flash(event.status === "unsuccessful"
        ? "Bidding closed: no valid bid stood at the deadline, the tender is unsuccessful."
        : "Bidding closed at " + format(event.deadline, zone) + " with " + event.participants +
          " participant(s). The customer now reviews the offers.", "info");
    });
    window.Live.on("results_published", (event) => {
      if (!event || event.tender_id !== tenderId || !window.Live.flash) return;
      window.Live.flash("The results are published: reload the page to see them.", "info");
    });
    window.Live.on("results_corrected", (event) => {
      if (!event || event.tender_id !== tenderId || !window.Live.flash) return;
      window.Live.flash("The results were corrected (version " + event.version +
        "): reload the page to see them. Reason: " + event.reason, "info");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
