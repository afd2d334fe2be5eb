/*
 * The notice page, live (anonymous visitors too): joins the tender's room, and when the
 * deadline moves (the 30-minute rule) updates the deadline text and the countdown at once,
 * correcting for this computer's clock with the server time sent along.
 *
 * Pushes may arrive out of order (two web processes) or be lost (Redis away): each carries
 * a sequence (deadline_extended: the extension count; offer pushes: the offers version), a
 * push older than what the page shows is ignored, and after a gap, a reconnect, a "resync"
 * or a "visibility_changed" push the page asks the server for the current state again
 * (watch_tender, which also decides which offer pushes this connection gets). Only the
 * server's status says bidding closed: at the deadline the page asks again every few
 * seconds until it does.
 */
(function () {
  "use strict";

  const format = window.Platform.formatMoment;
  const t = window.Platform.t; // the live notices in the page's language

  // A live notice, written once the page's catalog is loaded (a push can arrive before it).
  function say(Live, words) {
    if (Live.flash) window.Platform.ready.then(() => Live.flash(words(), "info"));
  }
  const POLL_AT_DEADLINE_MS = 3000;

  function start() {
    const el = document.querySelector(".countdown[data-tender]");
    if (!el || !window.Live) return;
    const Live = window.Live;
    const tenderId = Number(el.dataset.tender);
    const zone = el.dataset.timezone || "Europe/Moscow";
    const text = document.getElementById("deadline-text");
    let extensions = Number(el.dataset.extensions || 0);
    let offersVersion = null;
    let status = el.dataset.status || "published";

    function apply(deadline, serverTime) {
      if (!deadline) return;
      if (window.Countdown) window.Countdown.update(tenderId, deadline, serverTime);
      if (text) text.textContent = format(deadline, zone);
      el.dataset.deadline = deadline;
    }

    function setStatus(next) {
      if (!next || next === status) return;
      status = next;
      if (window.Countdown) window.Countdown.setStatus(tenderId, next);
      const badge = document.getElementById("status-badge");
      if (badge) {
        const labels = {
          published: t("published"),
          closed: t("closed"),
          results_published: t("results published"),
          cancelled: t("cancelled"),
          unsuccessful: t("unsuccessful"),
        };
        badge.textContent = labels[next] || next.replace(/_/g, " ");
        badge.className = "badge badge-" + next;
      }
      if (next !== "published") {
        // Bidding is over: no "Bid" button (an accreditation push will not bring it back).
        ["bid-link", "bid-after-accreditation"].forEach((id) => {
          const el = document.getElementById(id);
          if (!el) return;
          el.dataset.biddingOver = "1";
          el.classList.add("hidden");
        });
      }
    }

    // The server's current state; what it says wins over any push received so far.
    function watch() {
      if (!Live.socket) return;
      Live.socket.emit("watch_tender", { tender_id: tenderId }, (state) => {
        if (!state || !state.ok) return;
        if (Number(state.extensions) >= extensions) { // an older answer than a push: skip
          extensions = Number(state.extensions);
          apply(state.deadline, state.server_time);
          el.dataset.extensions = String(extensions);
        }
        setStatus(state.status);
        if (el.dataset.watching === "1") refetchOffers(); // again: pushes may be missed
        el.dataset.watching = "1"; // live from now on (tests and styles can rely on it)
      });
    }

    Live.on("connect", watch); // the first connection and every reconnect
    Live.on("resync", watch); // this process lost pushes (Redis away)
    Live.on("visibility_changed", (event) => {
      if (event && (event.tender_id === tenderId || event.tender_id === null)) watch();
    });
    // At the deadline, ask until the server says whether bidding closed or the deadline moved.
    window.setInterval(() => {
      if (status === "published" && window.Countdown && window.Countdown.waiting(tenderId)) watch();
    }, POLL_AT_DEADLINE_MS);

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
    ["offers_changed", "best_prices"].forEach((name) =>
      Live.on(name, (event) => {
        if (!event || event.tender_id !== tenderId) return;
        if (event.version !== undefined) {
          if (Live.order(offersVersion, event.version) === "stale") return; // older than shown
          offersVersion = Number(event.version);
        }
        refetchOffers();
      })
    );
    Live.on("bid_activity", (event) => {
      if (event && event.tender_id === tenderId) refetchOffers();
    });

    Live.on("deadline_extended", (event) => {
      if (!event || event.tender_id !== tenderId) return;
      const order = Live.order(extensions, event.extensions);
      if (order === "stale") return; // an older extension than the one shown
      extensions = Number(event.extensions);
      el.dataset.extensions = String(extensions);
      apply(event.deadline, event.server_time);
      if (order === "gap") watch(); // an extension in between was missed: ask the server
      say(Live, () => t("The deadline was extended to {at} (an offer changed in the last minutes).",
        { at: format(event.deadline, zone) }));
    });
    Live.on("tender_closed", (event) => {
      if (!event || event.tender_id !== tenderId) return;
      setStatus(event.status);
      say(Live, () => (event.status === "unsuccessful"
        ? t("Bidding closed: no valid bid stood at the deadline, the tender is unsuccessful.")
        : t("Bidding closed at {at}; participants: {n}. The customer now reviews the offers.",
          { at: format(event.deadline, zone), n: event.participants })));
    });
    Live.on("results_published", (event) => {
      if (!event || event.tender_id !== tenderId) return;
      say(Live, () => t("The results are published: reload the page to see them."));
    });
    Live.on("results_corrected", (event) => {
      if (!event || event.tender_id !== tenderId) return;
      say(Live, () => t("The results were corrected (version {version}): reload the page to see them. Reason: {reason}",
        { version: event.version, reason: event.reason }));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
