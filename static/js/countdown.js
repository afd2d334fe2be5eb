/*
 * Countdown to a tender's deadline, computed from the SERVER's time: the page carries
 * data-server-now, so a wrong clock on the user's computer does not shift the countdown.
 * Live pages may call window.Countdown.update(tenderId, newDeadlineIso, serverNowIso).
 */
(function () {
  "use strict";

  const timers = [];

  function format(ms) {
    if (ms <= 0) return "bidding closed";
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400);
    const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    const ss = String(s % 60).padStart(2, "0");
    return (d > 0 ? d + " d " : "") + hh + ":" + mm + ":" + ss + " left";
  }

  function attach(el) {
    const timer = {
      el: el,
      deadline: Date.parse(el.dataset.deadline),
      skew: Date.parse(el.dataset.serverNow) - Date.now(),
      tender: el.dataset.tender,
    };
    timers.push(timer);
  }

  function tick() {
    timers.forEach((t) => {
      const left = t.deadline - (Date.now() + t.skew);
      t.el.textContent = format(left);
      t.el.classList.toggle("urgent", left > 0 && left < 30 * 60 * 1000);
      t.el.classList.toggle("closed", left <= 0);
    });
  }

  window.Countdown = {
    update(tenderId, deadlineIso, serverNowIso) {
      timers.filter((t) => t.tender === String(tenderId)).forEach((t) => {
        t.deadline = Date.parse(deadlineIso);
        if (serverNowIso) t.skew = Date.parse(serverNowIso) - Date.now();
      });
      tick();
    },
  };

  function start() {
    document.querySelectorAll(".countdown[data-deadline]").forEach(attach);
    if (timers.length) {
      tick();
      setInterval(tick, 1000);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
