/*
 * "My bids" and followed tenders, live: watches every open tender of the page (the notice's
 * watch_tender, so this page hears what the notice would), moves a countdown at once when
 * its deadline is extended, and fetches the rows again (as the server renders them for this
 * viewer) when offers, the deadline or the status change; at most once per two seconds.
 */
(function () {
  "use strict";

  function start() {
    const section = document.getElementById("workspace");
    if (!section || !window.Live || !section.dataset.url) return;
    const Live = window.Live;
    const format = window.Platform.formatMoment;
    const extensions = {};

    function shown(tenderId) {
      return section.querySelector('tr[data-tender="' + Number(tenderId) + '"]') !== null;
    }

    function watchAll() {
      if (!Live.socket) return;
      const ids = new Set();
      section.querySelectorAll(".countdown[data-tender]").forEach((el) => {
        ids.add(Number(el.dataset.tender));
        if (extensions[el.dataset.tender] === undefined) {
          extensions[el.dataset.tender] = Number(el.dataset.extensions || 0);
        }
      });
      ids.forEach((id) => {
        Live.socket.emit("watch_tender", { tender_id: id }, (state) => {
          if (!state || !state.ok) return;
          section.dataset.watched = String(Number(section.dataset.watched || 0) + 1);
          if (Number(state.extensions) > (extensions[id] || 0) || state.status !== "published") refetch();
        });
      });
    }

    let timer = null;
    let last = 0;
    function refetch() {
      if (timer) return;
      const wait = Math.max(0, last + 2000 - Date.now());
      timer = window.setTimeout(async () => {
        timer = null;
        last = Date.now();
        try {
          const resp = await fetch(section.dataset.url, { credentials: "same-origin" });
          if (!resp.ok) return;
          section.innerHTML = await resp.text();
          if (window.Countdown) window.Countdown.scan();
          section.dataset.refreshed = String(Number(section.dataset.refreshed || 0) + 1);
        } catch (e) {
          /* the next push or a reload brings it */
        }
      }, wait);
    }

    Live.on("connect", watchAll);
    Live.on("resync", watchAll);
    Live.on("visibility_changed", watchAll);
    Live.on("deadline_extended", (event) => {
      if (!event || !shown(event.tender_id)) return;
      const id = String(event.tender_id);
      if (Live.order(extensions[id], event.extensions) === "stale") return;
      extensions[id] = Number(event.extensions);
      if (window.Countdown) window.Countdown.update(event.tender_id, event.deadline, event.server_time);
      const text = section.querySelector('[data-deadline-text="' + Number(event.tender_id) + '"]');
      const countdown = section.querySelector('.countdown[data-tender="' + Number(event.tender_id) + '"]');
      if (text && countdown) text.textContent = format(event.deadline, countdown.dataset.timezone);
      refetch();
    });
    Live.on("tender_closed", (event) => {
      if (!event || !shown(event.tender_id)) return;
      if (window.Countdown) window.Countdown.setStatus(event.tender_id, event.status);
      refetch();
    });
    ["offers_changed", "best_prices", "bid_activity", "results_published", "results_corrected"].forEach((name) =>
      Live.on(name, (event) => {
        if (event && shown(event.tender_id)) refetch();
      })
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
