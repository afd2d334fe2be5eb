/*
 * The supplier's bid form: prices per position (across pages), criterion values, signing in
 * this browser (keys.js) and submitting a revision.
 *
 * - The whole offer lives in memory, starting from the data island #current-offer (the last
 *   accepted revision). Edits are kept in sessionStorage per tender, so paging or filtering
 *   never loses a price typed on another page; they are dropped after a successful submit, or
 *   when the bid got a new revision elsewhere meanwhile (data-revision changed).
 * - Totals (unit price x quantity) are computed exactly (BigInt), a decimal comma accepted.
 * - "Sign and submit": POST .../bid/prepare, check that the bytes to sign hold the offer typed
 *   here, sign them with window.TenderKeys.sign(fingerprint, bytes), POST .../bid/revisions
 *   with the key id of the IndexedDB record; then the result, and a reload (the receipt shows
 *   at the top). Every problem the platform reports is listed in #bid-errors.
 * - The best price and own rank per position (#best-N, #rank-N; only when the tender's
 *   visibility lets this supplier see them, #bid-lines[data-standing]) follow the offers
 *   pushes live: the pushed best prices at once, the ranks from GET .../bid/standing.
 */
(function () {
  "use strict";

  const { api, base64ToBytes, formatMoment, t } = window.Platform;
  const post = (path, body) => api("POST", path, body);

  function byId(id) {
    return document.getElementById(id);
  }

  // -- decimals -----------------------------------------------------------------------------

  // "1 234,5" -> "1234.5"; null when the text is not a plain non-negative decimal.
  function normalizeDecimal(text) {
    const clean = String(text == null ? "" : text)
      .replace(/[\s\u00a0\u202f']/g, "")
      .replace(",", ".");
    const match = /^(\d*)(?:\.(\d*))?$/.exec(clean);
    if (!match || (match[1] === "" && !match[2])) return null;
    const whole = match[1].replace(/^0+(?=\d)/, "") || "0";
    return match[2] ? whole + "." + match[2] : whole;
  }

  // A normalized decimal as {units: BigInt, scale}.
  function scaled(normalized) {
    const [whole, frac = ""] = normalized.split(".");
    return { units: BigInt(whole + frac), scale: frac.length };
  }

  // Half-up rounding of a non-negative scaled value to `places` decimals (as units).
  function roundTo(value, places) {
    if (value.scale <= places) return value.units * 10n ** BigInt(places - value.scale);
    const divisor = 10n ** BigInt(value.scale - places);
    const quotient = value.units / divisor;
    return (value.units % divisor) * 2n >= divisor ? quotient + 1n : quotient;
  }

  // A stored decimal ("90.50") as the page's language writes it ("90,50" in Russian).
  function localDecimal(text) {
    return window.Platform.lang === "ru" ? text.replace(".", ",") : text;
  }

  // Units of 1/100 as the platform shows money in the page's language (core/formats.py):
  // "1 234 567,50" in Russian, "1,234,567.50" in English.
  function formatMoney(cents) {
    const english = window.Platform.lang === "en";
    const text = cents.toString().padStart(3, "0");
    const whole = text.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, english ? "," : "\u00a0");
    return whole + (english ? "." : ",") + text.slice(-2);
  }

  function lineTotal(price, quantity) {
    const p = scaled(price);
    const q = scaled(quantity);
    return roundTo({ units: p.units * q.units, scale: p.scale + q.scale }, 2);
  }

  // -1, 0 or 1 as decimal texts compare ("95" equals "95.00"); null when one is not a number.
  function compareDecimal(a, b) {
    const x = normalizeDecimal(a);
    const y = normalizeDecimal(b);
    if (x === null || y === null) return null;
    const sx = scaled(x);
    const sy = scaled(y);
    const scale = Math.max(sx.scale, sy.scale);
    const ux = sx.units * 10n ** BigInt(scale - sx.scale);
    const uy = sy.units * 10n ** BigInt(scale - sy.scale);
    return ux === uy ? 0 : ux < uy ? -1 : 1;
  }

  function sameDecimal(a, b) {
    return compareDecimal(a, b) === 0;
  }

  function naturalCompare(a, b) {
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  // RFC 8785 for the receipt's plain data (strings, integers, objects): sorted keys, no spaces.
  function canonicalJson(value) {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
    return (
      "{" +
      Object.keys(value)
        .sort()
        .map((k) => JSON.stringify(k) + ":" + canonicalJson(value[k]))
        .join(",") +
      "}"
    );
  }

  // -- the form -----------------------------------------------------------------------------

  function start() {
    const root = byId("bid-form");
    if (!root) return;
    const tenderId = Number(root.dataset.tenderId);
    const tenderNumber = root.dataset.tenderNumber || "";
    const zone = root.dataset.timezone || "Europe/Moscow";
    const base = Number(root.dataset.revision || 0);
    const storageKey = "bid-form:" + tenderId;
    const button = byId("submit-bid");
    const select = byId("sign-key");
    const result = byId("bid-result");
    const errors = byId("bid-errors");
    const rows = Array.from(document.querySelectorAll("tr.bid-line[data-position]"));
    const criterionInputs = Array.from(document.querySelectorAll(".criterion-input"));
    let localKeys = new Map();
    let working = false;

    // The offer: {lines: {number: {unit_price, note, lot}}, criteria: {"lot:id": value}}.
    const state = { base, lines: {}, criteria: {} };

    function readCurrent() {
      const island = byId("current-offer");
      let current = {};
      try {
        current = JSON.parse(island ? island.textContent : "{}") || {};
      } catch (e) {
        current = {};
      }
      Object.entries(current.lines || {}).forEach(([number, line]) => {
        state.lines[number] = {
          unit_price: localDecimal(String((line && line.unit_price) || "")),
          note: String((line && line.note) || ""),
        };
      });
      Object.entries(current.criteria || {}).forEach(([key, value]) => {
        if (value !== null && value !== undefined && value !== "") state.criteria[key] = value;
      });
    }

    function restore() {
      let saved = null;
      try {
        saved = JSON.parse(window.sessionStorage.getItem(storageKey) || "null");
      } catch (e) {
        saved = null;
      }
      if (!saved || typeof saved !== "object") return;
      if (saved.base !== base) {
        // The bid changed since (another tab, another colleague): start from the new revision.
        forget();
        return;
      }
      state.lines = saved.lines && typeof saved.lines === "object" ? saved.lines : {};
      state.criteria = saved.criteria && typeof saved.criteria === "object" ? saved.criteria : {};
    }

    function remember() {
      try {
        window.sessionStorage.setItem(storageKey, JSON.stringify(state));
      } catch (e) {
        /* private mode or full storage: the offer stays in memory for this page */
      }
    }

    function forget() {
      try {
        window.sessionStorage.removeItem(storageKey);
      } catch (e) {
        /* nothing stored */
      }
    }

    // -- rows and totals --

    function priceInput(row) {
      return row.querySelector("input.price-input");
    }

    function noteInput(row) {
      return row.querySelector("input.note-input");
    }

    function showTotal(row) {
      const cell = row.querySelector(".line-total");
      const price = normalizeDecimal(priceInput(row).value);
      const quantity = normalizeDecimal(row.dataset.qty);
      if (!cell) return null;
      if (price === null || quantity === null) {
        cell.textContent = priceInput(row).value.trim() ? "?" : "";
        row.classList.remove("over-max");
        return null;
      }
      const cents = lineTotal(price, quantity);
      cell.textContent = formatMoney(cents);
      // A hint only: the platform checks the maximum (and everything else) on submit.
      row.classList.toggle("over-max", compareDecimal(price, row.dataset.max) === 1);
      return cents;
    }

    function showPageTotal() {
      const cell = byId("page-total");
      let sum = 0n;
      let any = false;
      rows.forEach((row) => {
        const cents = showTotal(row);
        if (cents !== null) {
          sum += cents;
          any = true;
        }
      });
      if (cell) cell.textContent = any ? formatMoney(sum) : "";
    }

    function fromRow(row) {
      const number = row.dataset.position;
      const price = priceInput(row).value.trim();
      const note = noteInput(row) ? noteInput(row).value : "";
      if (!price && !note.trim()) {
        delete state.lines[number];
      } else {
        state.lines[number] = { unit_price: price, note, lot: row.dataset.lot };
      }
    }

    function fillRows() {
      rows.forEach((row) => {
        const number = row.dataset.position;
        const line = state.lines[number];
        priceInput(row).value = line ? line.unit_price || "" : "";
        if (noteInput(row)) noteInput(row).value = line ? line.note || "" : "";
        if (line) line.lot = row.dataset.lot; // now known for this position
        const onEdit = () => {
          fromRow(row);
          remember();
          showPageTotal();
          row.classList.remove("invalid");
        };
        priceInput(row).addEventListener("input", onEdit);
        if (noteInput(row)) noteInput(row).addEventListener("input", onEdit);
      });
      showPageTotal();
    }

    // -- criteria --

    function criterionKey(el) {
      return el.dataset.lot + ":" + el.dataset.criterion;
    }

    function fillCriteria() {
      criterionInputs.forEach((el) => {
        const key = criterionKey(el);
        const value = state.criteria[key];
        if (el.dataset.kind === "boolean") {
          el.value = value === true ? "true" : value === false ? "false" : "";
        } else {
          el.value = value === undefined || value === null ? "" : String(value);
        }
        const onEdit = () => {
          let v = el.value;
          if (el.dataset.kind === "boolean") v = v === "true" ? true : v === "false" ? false : "";
          if (v === "" || (typeof v === "string" && !v.trim())) {
            delete state.criteria[key];
          } else {
            state.criteria[key] = v;
          }
          remember();
          el.classList.remove("invalid");
        };
        el.addEventListener("input", onEdit);
        el.addEventListener("change", onEdit);
      });
    }

    // -- the API body --

    function offerBody() {
      const problems = [];
      const lines = [];
      const bidLots = new Set();
      let unknownLot = false;
      Object.keys(state.lines)
        .sort(naturalCompare)
        .forEach((number) => {
          const line = state.lines[number];
          const raw = String(line.unit_price || "").trim();
          if (!raw) return; // not bidding on this position
          const price = normalizeDecimal(raw);
          if (price === null) {
            problems.push([`lines.${number}.unit_price`, t("Position {number}: the unit price must be a number (got \u00ab{raw}\u00bb).", { number, raw })]);
            return;
          }
          const [whole, frac = ""] = price.split(".");
          if (frac.length > 6 || whole.length > 15) {
            problems.push([`lines.${number}.unit_price`, t("Position {number}: the unit price {raw} is not a valid amount (at most 2 decimal places).", { number, raw })]);
            return;
          }
          lines.push({ position: number, unit_price: price, note: String(line.note || "") });
          if (line.lot) bidLots.add(String(line.lot));
          else unknownLot = true;
        });
      const criteria = [];
      Object.keys(state.criteria)
        .sort(naturalCompare)
        .forEach((key) => {
          const value = state.criteria[key];
          if (value === "" || value === null || value === undefined) return;
          const [lot, criterion] = key.split(":");
          // Values of a lot without a priced position are left out (the platform refuses them).
          if (!unknownLot && !bidLots.has(lot)) return;
          criteria.push({
            lot: Number(lot),
            criterion: Number(criterion),
            value: typeof value === "boolean" ? value : String(value).trim(),
          });
        });
      // Documents from the organization's vault, ticked in the Documents section.
      const documents = Array.from(document.querySelectorAll("input.document-input:checked")).map((el) =>
        Number(el.value)
      );
      return { body: { lines, criteria, documents }, problems };
    }

    // The bytes to sign must hold exactly the prices typed here, for this tender.
    function checkSigned(bytes, body) {
      let signed;
      try {
        signed = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new Error(t("The platform sent a payload that is not JSON: nothing was signed."));
      }
      const lines = (signed && signed.lines) || [];
      const byNumber = new Map(lines.map((l) => [String(l.position), l]));
      const same =
        signed.tender === tenderNumber &&
        lines.length === body.lines.length &&
        body.lines.every((l) => {
          const got = byNumber.get(l.position);
          return got && sameDecimal(got.unit_price, l.unit_price) && String(got.note) === l.note;
        });
      if (!same) {
        throw new Error(t("The payload to sign does not match the prices in this form: nothing was signed."));
      }
      const files = ((signed && signed.documents) || []).map((d) => d.sha256).sort();
      const ticked = Array.from(document.querySelectorAll("input.document-input:checked"))
        .map((el) => el.dataset.sha256)
        .sort();
      if (files.length !== ticked.length || !files.every((sha, i) => sha === ticked[i])) {
        throw new Error(t("The payload to sign does not name the documents ticked in this form: nothing was signed."));
      }
    }

    // -- messages --

    function show(el, kind) {
      el.classList.remove("hidden", "flash-success", "flash-error", "flash-info");
      el.classList.add("flash", "flash-" + kind);
    }

    function hide(el) {
      el.classList.add("hidden");
      el.textContent = "";
    }

    function markField(field) {
      let el = null;
      let m = /^lines\.([^.]+)(?:\.|$)/.exec(field);
      if (m) {
        el = byId("price-" + m[1]);
        if (el) el.closest("tr").classList.add("invalid");
      }
      m = /^criteria\.(\d+)\.(\d+)$/.exec(field);
      if (m) el = byId("crit-" + m[1] + "-" + m[2]);
      if (el) {
        el.classList.add("invalid");
        el.setAttribute("aria-invalid", "true");
      }
    }

    function clearMarks() {
      document.querySelectorAll("#bid-form .invalid").forEach((el) => el.classList.remove("invalid"));
      document.querySelectorAll('#bid-form [aria-invalid="true"]').forEach((el) => el.removeAttribute("aria-invalid"));
    }

    function showErrors(message, fields) {
      hide(result);
      errors.textContent = "";
      const head = document.createElement("p");
      head.className = "errors-message";
      head.textContent = message;
      errors.appendChild(head);
      const entries = Object.entries(fields || {}).sort((a, b) => naturalCompare(a[0], b[0]));
      if (entries.length) {
        const list = document.createElement("ul");
        list.className = "field-problems";
        entries.forEach(([field, messages]) => {
          (Array.isArray(messages) ? messages : [messages]).forEach((text) => {
            const item = document.createElement("li");
            item.dataset.field = field;
            const code = document.createElement("code");
            code.textContent = field;
            item.appendChild(code);
            item.appendChild(document.createTextNode(": " + String(text)));
            list.appendChild(item);
          });
          markField(field);
        });
        errors.appendChild(list);
      }
      show(errors, "error");
      errors.scrollIntoView({ block: "nearest" });
    }

    function showResult(text, kind) {
      result.textContent = text;
      show(result, kind);
    }

    function busy(on, text) {
      working = on;
      if (!button) return; // a tender that takes qualified signatures only has no key form
      if (on) {
        if (!button.dataset.idleText) button.dataset.idleText = button.textContent;
        button.textContent = text;
        button.disabled = true;
      } else {
        button.textContent = button.dataset.idleText || button.textContent;
        button.disabled = !canSubmit();
      }
    }

    function canSubmit() {
      return root.dataset.open === "1" && Boolean(select && select.value && localKeys.has(select.value));
    }

    // -- keys --

    async function loadKeys() {
      const missing = byId("no-local-key");
      const keys = window.TenderKeys;
      if (!keys || !keys.supported()) {
        if (missing) {
          missing.textContent = (keys && keys.UNSUPPORTED) || t("This browser cannot make signatures.");
          show(missing, "error");
        }
        button.disabled = true;
        return;
      }
      try {
        localKeys = new Map((await keys.list()).map((r) => [r.fingerprint, r]));
      } catch (err) {
        if (missing) {
          missing.textContent = t("The keys stored in this browser cannot be read: {error}", { error: err.message });
          show(missing, "error");
        }
        button.disabled = true;
        return;
      }
      if (select) {
        Array.from(select.options).forEach((opt) => {
          if (!localKeys.has(opt.value)) opt.remove();
        });
        const usable = Array.from(select.options);
        select.closest(".row").classList.toggle("hidden", usable.length === 0);
        if (usable.length && !select.value) select.value = usable[0].value;
      }
      if (missing) missing.classList.toggle("hidden", Boolean(select && select.options.length));
      button.disabled = working || !canSubmit();
      button.dataset.ready = "1"; // keys checked (tests and styles can rely on it)
    }

    // -- submitting --

    async function submit(ev) {
      ev.preventDefault();
      if (working) return;
      clearMarks();
      hide(errors);
      hide(result);
      const { body, problems } = offerBody();
      if (problems.length) {
        const fields = {};
        problems.forEach(([field, text]) => (fields[field] = (fields[field] || []).concat(text)));
        showErrors(t("The offer has {n} problem(s); nothing was sent.", { n: problems.length }), fields);
        return;
      }
      const fingerprint = select ? select.value : "";
      const record = localKeys.get(fingerprint);
      if (!record) {
        showErrors(t("Choose a signing key stored in this browser."), {});
        return;
      }
      busy(true, t("Checking the offer\u2026"));
      try {
        const prepared = await post(`/tenders/${tenderId}/bid/prepare`, body);
        busy(true, t("Signing\u2026"));
        const bytes = base64ToBytes(prepared.canonical_b64);
        checkSigned(bytes, body);
        const signature = await window.TenderKeys.sign(fingerprint, bytes);
        busy(true, t("Submitting\u2026"));
        const accepted = await post(`/tenders/${tenderId}/bid/revisions`, {
          lines: body.lines,
          criteria: body.criteria,
          documents: body.documents,
          key_id: Number(record.keyId),
          signature,
        });
        forget();
        let text = t("Revision {n} accepted at {at}.", { n: accepted.number, at: formatMoment(accepted.accepted_at, zone) });
        if (accepted.extended) {
          text += " " + t("The deadline was extended to {at}.", { at: formatMoment(accepted.bid_deadline, zone) });
        }
        showResult(text, "success");
        if (accepted.bid_deadline) {
          const deadlineText = byId("deadline-text");
          if (deadlineText) deadlineText.textContent = formatMoment(accepted.bid_deadline, zone);
          if (window.Countdown) window.Countdown.update(tenderId, accepted.bid_deadline);
        }
        button.textContent = t("Accepted");
        // The receipt of the new revision shows at the top after the reload.
        window.setTimeout(() => window.location.reload(), 1000);
      } catch (err) {
        showErrors(err.message || String(err), err.fields || {});
        busy(false);
      }
    }

    // -- a qualified signature (КЭП): CryptoPro's plug-in or a signed file (qualified-sign.js)

    function startQualified() {
      if (!window.QualifiedSign) return;
      window.QualifiedSign.start({
        open: () => root.dataset.open === "1" && !working,
        currentKey: () => canonicalJson(offerBody().body),
        clear: () => {
          clearMarks();
          hide(errors);
          hide(result);
        },
        fail: (err) => showErrors(err.message || String(err), err.fields || {}),
        prepare: async () => {
          const { body, problems } = offerBody();
          if (problems.length) {
            const fields = {};
            problems.forEach(([field, text]) => (fields[field] = (fields[field] || []).concat(text)));
            const err = new Error(t("The offer has {n} problem(s); nothing was sent.", { n: problems.length }));
            err.fields = fields;
            throw err;
          }
          const prepared = await post(`/tenders/${tenderId}/bid/prepare`, body);
          const bytes = base64ToBytes(prepared.canonical_b64);
          checkSigned(bytes, body);
          return { bytes, name: `bid-${tenderNumber}-r${prepared.revision}.json`, key: canonicalJson(body) };
        },
        submit: async (signature) => {
          const { body } = offerBody();
          const accepted = await post(`/tenders/${tenderId}/bid/revisions`, { ...body, signature });
          forget();
          let text = t("Revision {n} accepted at {at}.", { n: accepted.number, at: formatMoment(accepted.accepted_at, zone) });
          const signer = accepted.signed_with && accepted.signed_with.signer;
          if (signer) text += " " + t("Signed by {name} (qualified signature).", { name: signer.name });
          if (accepted.extended) {
            text += " " + t("The deadline was extended to {at}.", { at: formatMoment(accepted.bid_deadline, zone) });
          }
          showResult(text, "success");
          working = true; // nothing more to send from this page: the receipt comes with the reload
          window.setTimeout(() => window.location.reload(), 1500);
        },
      });
    }

    // -- the receipt --

    function showReceipt() {
      const island = byId("receipt-data");
      const pre = byId("receipt-json");
      if (!island || !pre) return;
      let receipt;
      try {
        receipt = JSON.parse(island.textContent);
      } catch (e) {
        return;
      }
      if (!receipt || !receipt.payload) return;
      const canonical = canonicalJson(receipt.payload);
      pre.textContent = canonical;
      pre.dataset.canonical = "1";
      const links = byId("receipt-downloads");
      if (!links) return;
      const rev = receipt.payload.revision;
      [
        [canonical, `receipt-${tenderNumber}-r${rev}.json`, "receipt.json", "application/json"],
        [String(receipt.signature), `receipt-${tenderNumber}-r${rev}.sig.b64`, "receipt.sig.b64", "text/plain"],
      ].forEach(([text, filename, label, type], index) => {
        const a = document.createElement("a");
        a.href = URL.createObjectURL(new Blob([text], { type }));
        a.download = filename;
        a.className = "btn btn-small";
        a.textContent = t("Download {file}", { file: label });
        if (index) links.appendChild(document.createTextNode(" "));
        links.appendChild(a);
      });
      links.classList.remove("hidden");
    }

    // -- the best price and own rank per position, live --

    // Offers moved (offers_changed / best_prices / bid_activity on the tender's rooms, which
    // notice.js joins through watch_tender): the pushed best prices show at once, then the
    // server is asked where this offer stands (GET .../bid/standing decides what this
    // supplier may see), at most once per two seconds however busy the tender is.
    function followStanding() {
      const table = byId("bid-lines");
      if (!table || !window.Live) return;
      if (!["rank", "offers", "named"].includes(table.dataset.standing)) return;
      const numbers = rows.map((row) => row.dataset.position);
      if (!numbers.length) return;
      const Live = window.Live;
      let timer = null;
      let last = 0;
      let version = null;

      function money(text) {
        const n = normalizeDecimal(text);
        return n === null ? "\u2014" : formatMoney(roundTo(scaled(n), 2));
      }

      function show(number, best, rank) {
        const bestCell = byId("best-" + number);
        const rankCell = byId("rank-" + number);
        if (!bestCell || !rankCell) return;
        bestCell.textContent = best === null || best === undefined ? "\u2014" : money(best);
        if (rank !== undefined) {
          rankCell.textContent = rank ? String(rank) : "\u2014";
          bestCell.classList.toggle("best", rank === 1);
          rankCell.classList.toggle("best", rank === 1);
        }
      }

      async function refresh() {
        timer = null;
        last = Date.now();
        try {
          const answer = await api(
            "GET",
            `/tenders/${tenderId}/bid/standing?positions=${encodeURIComponent(numbers.join(","))}`
          );
          if (!answer) return;
          table.dataset.standing = answer.level;
          const count = byId("standing-bids");
          if (count) count.textContent = String(answer.participants);
          if (!["rank", "offers", "named"].includes(answer.level)) {
            numbers.forEach((number) => show(number, null, null)); // no longer to be seen
          }
          (answer.positions || []).forEach((p) => show(p.position, p.best_price, p.own_rank));
        } catch (e) {
          /* the next push or a reload brings it */
        }
      }

      function schedule() {
        if (timer) return;
        timer = window.setTimeout(refresh, Math.max(0, last + 2000 - Date.now()));
      }

      ["offers_changed", "best_prices"].forEach((name) =>
        Live.on(name, (event) => {
          if (!event || event.tender_id !== tenderId) return;
          if (event.version !== undefined) {
            if (Live.order(version, event.version) === "stale") return; // older than shown
            version = Number(event.version);
          }
          Object.entries(event.best || {}).forEach(([number, price]) => {
            if (numbers.includes(number)) show(number, price, undefined);
          });
          schedule(); // the ranks (and a "refresh" push's prices) come from the server
        })
      );
      Live.on("bid_activity", (event) => {
        if (event && event.tender_id === tenderId) schedule();
      });
      Live.on("resync", schedule); // this process lost pushes (Redis away)
      Live.on("visibility_changed", (event) => {
        if (event && (event.tender_id === tenderId || event.tender_id === null)) schedule();
      });
      // Connected before this script started (it waits for Platform.ready): that was the first.
      let connects = Live.socket && Live.socket.connected ? 1 : 0;
      Live.on("connect", () => {
        if (connects++) schedule(); // a reconnect: pushes may have been missed meanwhile
      });
    }

    readCurrent();
    restore();
    fillRows();
    fillCriteria();
    remember();
    showReceipt();
    followStanding();
    startQualified();
    // The offer as typed, for the approval panel (bid-approval.js sends it to a manager).
    window.BidForm = { offerBody, showErrors };
    if (button) {
      button.addEventListener("click", submit);
      loadKeys();
    }
    // The form is live: typed prices are kept, the buttons answer (tests wait for it; the
    // script starts once the page's catalog is loaded, which may come after the page's load).
    root.dataset.ready = "1";
  }

  function startWhenReady() {
    window.Platform.ready.then(start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startWhenReady);
  } else {
    startWhenReady();
  }
})();
