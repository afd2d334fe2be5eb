/*
 * Countdown to a tender's deadline, computed from the SERVER's time: the page carries
 * data-server-now, so a wrong clock on the user's computer does not shift the countdown.
 * Live pages may call window.Countdown.update(tenderId, newDeadlineIso, serverNowIso) and
 * window.Countdown.setStatus(tenderId, status); a page that replaces its countdowns (a list
 * refreshed live) calls window.Countdown.scan() to drop the old ones and start the new.
 *
 * Only the server closes bidding (the deadline may still move, and closing takes the
 * platform a moment): at zero the countdown says the deadline is reached and waits; it says
 * "bidding closed" once the server's status (data-status, or setStatus) is no longer
 * "published".
 */
(function () {
  "use strict";

  const timers = [];
  const t = window.Platform.t;
  let ticking = false; // the texts wait for the page language's catalog (Platform.ready)

  function format(ms, status) {
    if (status && status !== "published") return t("bidding closed");
    if (ms <= 0) return t("deadline reached, waiting for the platform");
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400);
    const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    const ss = String(s % 60).padStart(2, "0");
    const time = hh + ":" + mm + ":" + ss;
    return d > 0 ? t("{n} d {time} left", { n: d, time: time }) : t("{time} left", { time: time });
  }

  function attach(el) {
    if (timers.some((t) => t.el === el)) return;
    const timer = {
      el: el,
      deadline: Date.parse(el.dataset.deadline),
      skew: Date.parse(el.dataset.serverNow) - Date.now(),
      tender: el.dataset.tender,
      status: el.dataset.status || "published",
    };
    timers.push(timer);
  }

  function tick() {
    if (!ticking) return;
    timers.forEach((t) => {
      const left = t.deadline - (Date.now() + t.skew);
      const closed = t.status !== "published";
      t.el.textContent = format(left, t.status);
      t.el.classList.toggle("urgent", !closed && left > 0 && left < 30 * 60 * 1000);
      t.el.classList.toggle("waiting", !closed && left <= 0);
      t.el.classList.toggle("closed", closed);
    });
  }

  function of(tenderId) {
    return timers.filter((t) => t.tender === String(tenderId));
  }

  window.Countdown = {
    update(tenderId, deadlineIso, serverNowIso) {
      of(tenderId).forEach((t) => {
        t.deadline = Date.parse(deadlineIso);
        if (serverNowIso) t.skew = Date.parse(serverNowIso) - Date.now();
      });
      tick();
    },
    setStatus(tenderId, status) {
      of(tenderId).forEach((t) => {
        t.status = status;
        t.el.dataset.status = status;
      });
      tick();
    },
    scan() {
      for (let i = timers.length - 1; i >= 0; i -= 1) {
        if (!timers[i].el.isConnected) timers.splice(i, 1);
      }
      document.querySelectorAll(".countdown[data-deadline]").forEach(attach);
      tick();
    },
    // Whether the deadline is reached while the server has not said bidding closed.
    waiting(tenderId) {
      return of(tenderId).some(
        (t) => t.status === "published" && t.deadline - (Date.now() + t.skew) <= 0
      );
    },
  };

  function start() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(attach);
    if (timers.length) {
      window.Platform.ready.then(() => {
        ticking = true;
        tick();
        setInterval(tick, 1000);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
