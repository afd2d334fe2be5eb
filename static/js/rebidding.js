/*
 * The re-bidding round (переторжка), live:
 * - on the notice: a round announced, extended or ended is pushed to the tender's room
 *   (rebidding_announced / rebidding_extended / rebidding_closed): a notice appears at the top,
 *   the rounds section is fetched again as the server renders it for this viewer, and the
 *   round's countdown follows its deadline (the server's time corrects this computer's clock);
 *   an invitee also gets rebidding_invited in its own room, with the link to its form;
 * - on the invitee's form: "Sign and submit" prepares the improved offer (new prices and,
 *   when the round takes criteria, new criterion values: POST .../rebidding/offer/prepare),
 *   signs the exact bytes with a key stored in this browser (window.TenderKeys) and submits
 *   them (POST .../rebidding/offer); a qualified signature goes through the shared panel
 *   (qualified-sign.js: CryptoPro's plug-in or a signed file), the only route on a tender
 *   that requires one.
 */
(function () {
  "use strict";

  const P = window.Platform;
  const t = P.t;
  let skew = 0; // server time - this computer's time, from the page and every push

  function left(ms) {
    if (ms <= 0) return t("the round's deadline is reached");
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400);
    const time = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60]
      .map((n) => String(n).padStart(2, "0"))
      .join(":");
    return d > 0 ? t("{n} d {time} left", { n: d, time: time }) : t("{time} left", { time: time });
  }

  function tick() {
    document.querySelectorAll(".countdown[data-round-of]").forEach((el) => {
      const ms = Date.parse(el.dataset.until) - (Date.now() + skew);
      el.textContent = left(ms);
      el.classList.toggle("urgent", ms > 0 && ms < 30 * 60 * 1000);
      el.classList.toggle("waiting", ms <= 0);
    });
  }

  function notice(text, url) {
    const main = document.querySelector("main") || document.body;
    const box = document.createElement("p");
    box.className = "flash flash-info rebidding-notice";
    box.textContent = text + " ";
    if (url) {
      const a = document.createElement("a");
      a.href = url;
      a.textContent = t("Submit an improved offer");
      box.appendChild(a);
    }
    main.insertBefore(box, main.firstChild);
  }

  async function refreshSection() {
    try {
      const resp = await fetch(window.location.href, { credentials: "same-origin" });
      const html = new DOMParser().parseFromString(await resp.text(), "text/html");
      const fresh = html.getElementById("rebidding");
      const current = document.getElementById("rebidding");
      if (fresh && current) {
        fresh.dataset.watching = current.dataset.watching || "";
        current.replaceWith(fresh);
      }
      else if (fresh) {
        const anchor = document.getElementById("offers") || document.querySelector("main section");
        if (anchor) anchor.parentNode.insertBefore(fresh, anchor);
      }
      tick();
    } catch (e) {
      /* the next push or a reload shows it */
    }
  }

  function onNotice(tenderId) {
    const Live = window.Live;
    if (!Live) return;
    const zoned = document.querySelector("[data-timezone], [data-zone]");
    const zone = (zoned && (zoned.dataset.timezone || zoned.dataset.zone)) || "Europe/Moscow";
    const mine = (e) => e && Number(e.tender_id) === tenderId;
    // A closed tender's notice has no countdown, so notice.js does not watch it: join the
    // tender's room here (again after every reconnect) to hear of rounds.
    const section = document.getElementById("rebidding");
    if (section && !document.querySelector(".countdown[data-tender]")) {
      const join = () =>
        Live.socket &&
        Live.socket.emit("watch_tender", { tender_id: tenderId }, (state) => {
          const current = document.getElementById("rebidding");
          if (state && state.ok && current) current.dataset.watching = "1";
        });
      Live.on("connect", join);
      Live.on("resync", join);
      // This script starts once the catalog is loaded (Platform.ready): the socket may be
      // connected by then, and its "connect" is not heard again until a reconnect.
      if (Live.socket && Live.socket.connected) join();
    }
    Live.on("rebidding_announced", (e) => {
      if (!mine(e)) return;
      if (e.server_time) skew = Date.parse(e.server_time) - Date.now();
      notice(t("Re-bidding round {n} announced: offers until {at}.", { n: e.round, at: P.formatMoment(e.deadline, zone) }));
      refreshSection();
    });
    Live.on("rebidding_invited", (e) => {
      if (!mine(e)) return;
      notice(t("Your organization is invited to re-bidding round {n}.", { n: e.round }), e.url.replace(/#.*$/, "").replace(/\/?$/, "") + "/rebidding");
    });
    Live.on("rebidding_extended", (e) => {
      if (!mine(e)) return;
      if (e.server_time) skew = Date.parse(e.server_time) - Date.now();
      document.querySelectorAll(".countdown[data-round-of='" + tenderId + "']").forEach((el) => {
        el.dataset.until = e.deadline;
      });
      document.querySelectorAll(".rebidding-deadline, #deadline-text").forEach((el) => {
        if (el.closest("#rebidding") || document.getElementById("rebidding-offer")) el.textContent = P.formatMoment(e.deadline, zone);
      });
      notice(t("The re-bidding round is extended until {at}.", { at: P.formatMoment(e.deadline, zone) }));
      tick();
    });
    Live.on("rebidding_closed", (e) => {
      if (!mine(e)) return;
      notice(t("Re-bidding round {n} ended; the offers are evaluated again.", { n: e.round }));
      refreshSection();
    });
  }

  // -- the invitee's form --

  function fieldErrors(fields) {
    document.querySelectorAll("#rebidding-offer [data-field]").forEach((el) => {
      el.textContent = (fields[el.dataset.field] || []).join(" ");
    });
  }

  // The improved offer on the form: the prices changed from the previous ones and, when the
  // round takes criteria, the criterion values changed from the bid's (the rest are kept).
  function improvedOffer(form) {
    const lines = [];
    form.querySelectorAll("tr.rebid-line").forEach((row) => {
      const value = row.querySelector("input.price").value.trim().replace(/\s/g, "").replace(",", ".");
      if (value && value !== row.dataset.previous) lines.push({ position: row.dataset.position, unit_price: value });
    });
    const criteria = [];
    form.querySelectorAll(".criterion-input").forEach((el) => {
      const raw = el.value.trim();
      if (!raw || raw === el.dataset.initial) return;
      let value = raw;
      if (el.dataset.kind === "boolean") value = raw === "true";
      else if (el.dataset.kind === "number") value = raw.replace(/\s/g, "").replace(",", ".");
      criteria.push({ lot: Number(el.dataset.lot), criterion: Number(el.dataset.criterion), value });
    });
    return { lines, criteria };
  }

  async function onForm(form) {
    const tenderId = Number(form.dataset.tenderId);
    const zone = form.dataset.timezone;
    const select = document.getElementById("sign-key");
    const button = document.getElementById("rebid-submit");
    const errors = document.getElementById("rebid-errors");
    const result = document.getElementById("rebid-result");
    let working = false;
    // The stored prices ("74100.00") as the page's language writes them ("74100,00" in
    // Russian, as the bid form does); improvedOffer reads either.
    if (P.lang === "ru") form.querySelectorAll("input.price").forEach((el) => (el.value = el.value.replace(".", ",")));
    form.querySelectorAll(".criterion-input").forEach((el) => (el.dataset.initial = el.value.trim()));

    function clear() {
      errors.classList.add("hidden");
      fieldErrors({});
    }
    function fail(err) {
      errors.textContent = err.message || String(err);
      errors.classList.remove("hidden");
      fieldErrors(err.fields || {});
    }
    async function submitSigned(body) {
      const accepted = await P.api("POST", `/tenders/${tenderId}/rebidding/offer`, body);
      working = true;
      let text = t("Revision {n} accepted at {at}.", { n: accepted.number, at: P.formatMoment(accepted.accepted_at, zone) });
      const signer = accepted.signed_with && accepted.signed_with.signer;
      if (signer) text += " " + t("Signed by {name} (qualified signature).", { name: signer.name });
      result.textContent = text;
      result.classList.remove("hidden");
      window.setTimeout(() => window.location.reload(), 1500);
    }

    // A qualified signature (КЭП): CryptoPro's plug-in or a signed file (qualified-sign.js).
    if (window.QualifiedSign) {
      window.QualifiedSign.start({
        open: () => !working,
        currentKey: () => JSON.stringify(improvedOffer(form)),
        clear,
        fail,
        prepare: async () => {
          const offer = improvedOffer(form);
          const prepared = await P.api("POST", `/tenders/${tenderId}/rebidding/offer/prepare`, offer);
          return {
            bytes: P.base64ToBytes(prepared.canonical_b64),
            name: `bid-${form.dataset.tenderNumber}-r${prepared.revision}.json`,
            key: JSON.stringify(offer),
          };
        },
        submit: (signature) => submitSigned({ ...improvedOffer(form), signature }),
      });
    }
    if (!select || !button) return; // qualified signatures only

    let local = new Map();
    try {
      if (window.TenderKeys && window.TenderKeys.supported()) {
        local = new Map((await window.TenderKeys.list()).map((r) => [r.fingerprint, r]));
      }
    } catch (e) {
      local = new Map();
    }
    Array.from(select.options).forEach((o) => {
      if (!local.has(o.value)) o.remove();
    });
    document.getElementById("no-local-key").classList.toggle("hidden", select.options.length > 0);
    button.disabled = select.options.length === 0;
    button.dataset.ready = "1";

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (working) return;
      clear();
      const offer = improvedOffer(form);
      const record = local.get(select.value);
      button.disabled = true;
      try {
        const prepared = await P.api("POST", `/tenders/${tenderId}/rebidding/offer/prepare`, offer);
        const signature = await window.TenderKeys.sign(select.value, P.base64ToBytes(prepared.canonical_b64));
        await submitSigned({ ...offer, key_id: Number(record.keyId), signature });
      } catch (err) {
        fail(err);
        button.disabled = false;
      }
    });
  }

  function start() {
    const first = document.querySelector(".countdown[data-round-of]");
    if (first && first.dataset.serverNow) skew = Date.parse(first.dataset.serverNow) - Date.now();
    tick();
    window.setInterval(tick, 1000);
    const section = document.getElementById("rebidding");
    const main = document.querySelector(".countdown[data-tender]");
    const tenderId = Number((section && section.dataset.tenderId) || (main && main.dataset.tender) || 0);
    if (tenderId) onNotice(tenderId);
    const form = document.getElementById("rebidding-offer");
    if (form) onForm(form);
  }

  P.ready.then(start);
})();
