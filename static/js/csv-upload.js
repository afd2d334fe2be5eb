/*
 * The CSV bid page: upload with a progress bar -> the problems (paged here) or the preview
 * (summary and lines paged by the API) -> criteria -> signing in this browser (keys.js) ->
 * submit. The revision is made by the same service as the bid form's.
 *
 * - Upload: XMLHttpRequest (fetch has no upload progress) POSTs the file as the body to
 *   /api/v1/tenders/<id>/bid/csv; a 422 answer lists every problem {line, column, message}.
 * - The preview says which lots the file covers and which lots of the bid stay as they are:
 *   a file changes only the positions it holds (an empty price cell drops one).
 * - Sign and submit: POST .../csv/<upload>/prepare (criteria of this page), check that the
 *   bytes to sign are this tender's and hold as many lines as the offer previewed (the
 *   file's and the kept ones), sign them with
 *   window.TenderKeys.sign(fingerprint, bytes), POST .../csv/<upload>/submit; on success go
 *   to the bid form, whose top shows the receipt.
 */
(function () {
  "use strict";

  const { API, api: call, apiError, csrfToken, base64ToBytes, t } = window.Platform;
  const PROBLEMS_PAGE = 100;
  const LINES_PAGE = 100;

  // The words of a preview line's change, in the page's language (after Platform.ready).
  function changeLabel(change) {
    const labels = {
      new: t("new"), up: t("price up"), down: t("price down"), note: t("note changed"), same: t("unchanged"),
      dropped: t("no longer priced"), kept: t("kept (not in the file)"),
    };
    return labels[change] || change;
  }

  function delimiterLabel(name) {
    const labels = { semicolon: t("semicolon"), comma: t("comma"), tab: t("tab") };
    return labels[name] || name;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  // Upload with progress: resolves with the JSON answer, rejects with apiError.
  function upload(path, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", API + path);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "text/csv");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
      });
      xhr.upload.addEventListener("load", () => onProgress(1, true));
      xhr.addEventListener("load", () => {
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (e) {
          data = null;
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(apiError(xhr.status, data));
      });
      xhr.addEventListener("error", () =>
        reject(apiError(0, null, t("The upload was interrupted: check the connection and try again.")))
      );
      xhr.send(file);
    });
  }

  // "1234567.5" -> "1 234 567,50"
  function money(text) {
    if (text === null || text === undefined || text === "") return "";
    const [whole, frac = ""] = String(text).split(".");
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0") + "," + (frac + "00").slice(0, 2);
  }

  // "2.5" -> "2,5" in Russian; English keeps the point.
  function decimal(text) {
    return window.Platform.lang === "ru" ? String(text).replace(".", ",") : String(text);
  }

  function quantity(text) {
    const [whole, frac = ""] = String(text).split(".");
    const f = frac.replace(/0+$/, "");
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0") + (f ? "," + f : "");
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function pager(nav, page, pages, go) {
    nav.textContent = "";
    if (pages <= 1) return;
    const link = (label, target) => {
      const a = document.createElement("a");
      a.href = "#";
      a.textContent = label;
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        go(target);
      });
      return a;
    };
    if (page > 1) nav.appendChild(link("\u2190 " + t("Previous"), page - 1));
    const span = document.createElement("span");
    span.className = "muted";
    span.textContent = " " + t("Page {page} of {pages}", { page, pages }) + " ";
    nav.appendChild(span);
    if (page < pages) nav.appendChild(link(t("Next") + " \u2192", page + 1));
  }

  function show(el, kind) {
    el.classList.remove("hidden", "flash-success", "flash-error", "flash-info");
    if (kind) el.classList.add("flash", "flash-" + kind);
  }

  function start() {
    const root = byId("csv-bid");
    if (!root) return;
    const tenderId = Number(root.dataset.tenderId);
    const tenderNumber = root.dataset.tenderNumber || "";
    const maxBytes = Number(root.dataset.maxBytes || 0);
    const form = byId("upload-form");
    const fileInput = byId("csv-file");
    const status = byId("upload-status");
    const bar = byId("upload-progress");
    const statusText = byId("upload-status-text");
    const problemsBox = byId("csv-problems");
    const previewBox = byId("csv-preview");
    const signBox = byId("sign");
    const criteriaBox = byId("criteria");
    const button = byId("submit-csv");
    const select = byId("sign-key");
    const result = byId("csv-result");
    const errors = byId("csv-errors");
    let current = null; // {id, positions, lots}
    let only = "all";
    let localKeys = new Map();
    let working = false;

    function reset() {
      [problemsBox, previewBox, signBox, result, errors].forEach((el) => el.classList.add("hidden"));
      if (criteriaBox) criteriaBox.classList.add("hidden");
      current = null;
      qualifiedRefresh();
    }

    // -- problems (all of them came with the 422 answer; paged here) --

    function showProblems(err) {
      const problems = err.problems || [];
      byId("problems-message").textContent = err.message;
      const body = byId("problems-table").querySelector("tbody");
      const pages = Math.max(1, Math.ceil(problems.length / PROBLEMS_PAGE));
      function render(page) {
        body.textContent = "";
        problems.slice((page - 1) * PROBLEMS_PAGE, page * PROBLEMS_PAGE).forEach((p) => {
          const tr = document.createElement("tr");
          cell(tr, String(p.line), "num");
          cell(tr, [p.cell, p.column].filter(Boolean).join(" · "));
          cell(tr, p.message);
          body.appendChild(tr);
        });
        pager(byId("problems-pager"), page, pages, render);
      }
      render(1);
      byId("problems-table").classList.toggle("hidden", problems.length === 0);
      show(problemsBox);
      problemsBox.scrollIntoView({ block: "nearest" });
    }

    // -- preview (summary and one page of lines from the API) --

    function summaryRow(list, term, text) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = text;
      list.appendChild(dt);
      list.appendChild(dd);
    }

    function showSummary(data) {
      const up = data.upload;
      const c = data.counts;
      const list = byId("preview-summary");
      list.textContent = "";
      summaryRow(list, t("File"), t("{name}: {n} rows, {encoding}, {delimiter}-separated, {variant}", {
        name: up.filename || t("(no name)"),
        n: up.rows,
        encoding: up.encoding,
        delimiter: delimiterLabel(data.delimiter_name),
        variant: up.variant === "unit" ? t("unit prices") : t("total prices"),
      }));
      const lots = (numbers) =>
        numbers.length === 1 ? t("lot {list}", { list: numbers.join(", ") }) : t("lots {list}", { list: numbers.join(", ") });
      const covered = data.covered_lots || data.lots;
      const kept = data.kept_lots || [];
      summaryRow(
        list,
        t("Lots"),
        t("the file covers {lots}", { lots: covered.length ? lots(covered) : t("no lot") }) +
          (kept.length
            ? kept.length === 1
              ? t("; {lots} of your bid stays as it is", { lots: lots(kept) })
              : t("; {lots} of your bid stay as they are", { lots: lots(kept) })
            : "")
      );
      summaryRow(list, t("Positions priced"), t("{file} in the file; {offer} in the offer to sign", { file: up.positions, offer: data.offer_positions }) + (data.lots.length ? ` (${lots(data.lots)})` : ""));
      summaryRow(list, t("Total"), `${money(data.offer_total)} ${root.dataset.currency || ""}` + (data.current_revision ? " " + t("(revision {n}: {total})", { n: data.current_revision, total: money(data.current_total) }) : ""));
      summaryRow(
        list,
        t("Changes"),
        data.current_revision
          ? t("{new} new, {up} price up, {down} price down, {dropped} no longer priced, {note} note only, {same} unchanged", c) +
              (c.kept ? t(", {kept} kept (not in the file)", { kept: c.kept }) : "")
          : t("first revision of your bid")
      );
      summaryRow(list, t("Becomes"), t("revision {n}", { n: data.revision }) + (data.changes_prices ? "" : " " + t("(no price change: it does not extend the deadline)")));
      byId("preview-stale").classList.toggle("hidden", !data.stale);
    }

    function showLines(data) {
      const body = byId("preview-table").querySelector("tbody");
      body.textContent = "";
      data.lines.forEach((l) => {
        const tr = document.createElement("tr");
        tr.dataset.position = l.position;
        tr.className = "change-" + l.change;
        cell(tr, String(l.lot));
        cell(tr, l.position);
        cell(tr, l.name);
        cell(tr, quantity(l.quantity), "num");
        cell(tr, l.unit);
        cell(tr, l.max_unit_price ? money(l.max_unit_price) : "\u2014", "num");
        cell(tr, money(l.current_unit_price), "num");
        cell(tr, money(l.unit_price), "num");
        cell(tr, money(l.total), "num");
        cell(tr, l.note);
        cell(tr, changeLabel(l.change));
        body.appendChild(tr);
      });
      if (!data.lines.length) {
        const tr = document.createElement("tr");
        tr.className = "empty";
        const td = cell(tr, t("No lines."));
        td.colSpan = 11;
        body.appendChild(tr);
      }
      pager(byId("preview-pager"), data.page, Math.max(1, Math.ceil(data.matching / data.per_page)), loadPage);
    }

    async function loadPage(page) {
      if (!current) return;
      const data = await call("GET", `/tenders/${tenderId}/bid/csv/${current.id}?page=${page}&per_page=${LINES_PAGE}&only=${only}`);
      showLines(data);
      return data;
    }

    async function openPreview(uploadId) {
      const data = await call("GET", `/tenders/${tenderId}/bid/csv/${uploadId}?page=1&per_page=${LINES_PAGE}&only=${only}`);
      current = { id: uploadId, positions: data.offer_positions, lots: data.lots.map(String) };
      showSummary(data);
      showLines(data);
      show(previewBox);
      if (criteriaBox) {
        criteriaBox.querySelectorAll("fieldset.criteria-block").forEach((fs) => {
          fs.classList.toggle("hidden", !current.lots.includes(fs.dataset.lot));
        });
        show(criteriaBox);
      }
      show(signBox);
      button.disabled = !canSubmit();
      qualifiedRefresh();
      previewBox.scrollIntoView({ block: "start" });
    }

    document.querySelectorAll('input[name="preview-only"]').forEach((radio) => {
      radio.addEventListener("change", () => {
        only = radio.value;
        loadPage(1).catch((err) => showErrors(err.message, {}));
      });
    });

    // -- uploading --

    async function onUpload(ev) {
      ev.preventDefault();
      if (working) return;
      reset();
      const file = fileInput.files && fileInput.files[0];
      if (!file) {
        show(status);
        bar.value = 0;
        statusText.textContent = t("Choose the CSV file first.");
        return;
      }
      if (maxBytes && file.size > maxBytes) {
        show(status);
        bar.value = 0;
        statusText.textContent = t("The file is {size} MB; the limit is {limit} MB. Upload the prices of one lot at a time.", { size: decimal((file.size / 1048576).toFixed(1)), limit: (maxBytes / 1048576).toFixed(0) });
        return;
      }
      const encoding = byId("csv-encoding").value;
      const query = `?filename=${encodeURIComponent(file.name)}` + (encoding ? `&encoding=${encoding}` : "");
      working = true;
      byId("upload-button").disabled = true;
      show(status);
      bar.value = 0;
      bar.removeAttribute("data-done");
      statusText.textContent = t("Uploading\u2026");
      try {
        const answer = await upload(`/tenders/${tenderId}/bid/csv${query}`, file, (share, sent) => {
          bar.value = Math.round(share * 100);
          statusText.textContent = sent ? t("Checking every line\u2026") : t("Uploading\u2026 {percent}%", { percent: Math.round(share * 100) });
        });
        bar.value = 100;
        bar.dataset.done = "1";
        statusText.textContent = answer.positions === 1
          ? t("Checked: {n} position priced, no problems.", { n: answer.positions })
          : t("Checked: {n} positions priced, no problems.", { n: answer.positions });
        await openPreview(answer.id);
      } catch (err) {
        bar.dataset.done = "1";
        statusText.textContent = err.problems ? t("{n} problem(s) found.", { n: err.problems.length }) : t("Refused.");
        if (err.problems) showProblems(err);
        else {
          byId("problems-message").textContent = err.message;
          byId("problems-table").classList.add("hidden");
          byId("problems-pager").textContent = "";
          show(problemsBox);
        }
      } finally {
        working = false;
        byId("upload-button").disabled = root.dataset.open !== "1";
        qualifiedRefresh();
      }
    }

    // -- criteria --

    function criteria() {
      if (!criteriaBox) return null;
      const out = [];
      criteriaBox.querySelectorAll(".criterion-input").forEach((el) => {
        const lot = el.dataset.lot;
        if (!current || !current.lots.includes(lot)) return;
        let value = el.value;
        if (el.dataset.kind === "boolean") value = value === "true" ? true : value === "false" ? false : "";
        if (value === "" || (typeof value === "string" && !value.trim())) return;
        out.push({ lot: Number(lot), criterion: Number(el.dataset.criterion), value: typeof value === "string" ? value.trim() : value });
      });
      return out;
    }

    // -- signing --

    function showErrors(message, fields) {
      result.classList.add("hidden");
      errors.textContent = "";
      const head = document.createElement("p");
      head.textContent = message;
      errors.appendChild(head);
      const entries = Object.entries(fields || {});
      if (entries.length) {
        const list = document.createElement("ul");
        list.className = "field-problems";
        entries.forEach(([field, messages]) => {
          (Array.isArray(messages) ? messages : [messages]).forEach((text) => {
            const item = document.createElement("li");
            item.dataset.field = field;
            item.textContent = `${field}: ${text}`;
            list.appendChild(item);
          });
        });
        errors.appendChild(list);
      }
      show(errors, "error");
    }

    function canSubmit() {
      return root.dataset.open === "1" && Boolean(current) && Boolean(select && select.value && localKeys.has(select.value));
    }

    function checkSigned(bytes) {
      let signed;
      try {
        signed = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new Error(t("The platform sent a payload that is not JSON: nothing was signed."));
      }
      if (!signed || signed.tender !== tenderNumber || !Array.isArray(signed.lines) || signed.lines.length !== current.positions) {
        throw new Error(t("The payload to sign does not match the previewed file: nothing was signed."));
      }
    }

    async function onSubmit() {
      if (working || !current) return;
      const fingerprint = select ? select.value : "";
      const record = localKeys.get(fingerprint);
      if (!record) {
        showErrors(t("Choose a signing key stored in this browser."), {});
        return;
      }
      working = true;
      errors.classList.add("hidden");
      button.disabled = true;
      const idle = button.textContent;
      const body = {};
      const values = criteria();
      if (values !== null) body.criteria = values;
      try {
        button.textContent = t("Checking the offer\u2026");
        const prepared = await call("POST", `/tenders/${tenderId}/bid/csv/${current.id}/prepare`, body);
        button.textContent = t("Signing\u2026");
        const bytes = base64ToBytes(prepared.canonical_b64);
        checkSigned(bytes);
        const signature = await window.TenderKeys.sign(fingerprint, bytes);
        button.textContent = t("Submitting\u2026");
        const accepted = await call("POST", `/tenders/${tenderId}/bid/csv/${current.id}/submit`, {
          ...body,
          key_id: Number(record.keyId),
          signature,
        });
        try {
          window.sessionStorage.removeItem("bid-form:" + tenderId); // the form starts from the new revision
        } catch (e) {
          /* nothing stored */
        }
        result.textContent = accepted.extended
          ? t("Revision {n} accepted; the deadline was extended.", { n: accepted.number })
          : t("Revision {n} accepted.", { n: accepted.number });
        show(result, "success");
        button.textContent = t("Accepted");
        window.setTimeout(() => {
          window.location.href = root.dataset.formUrl || `/tenders/${encodeURIComponent(tenderNumber)}/bid`;
        }, 1000);
      } catch (err) {
        showErrors(err.message || String(err), err.fields || {});
        button.textContent = idle;
        working = false;
        button.disabled = !canSubmit();
      }
    }

    async function onDiscard() {
      if (!current || working) return;
      try {
        await call("DELETE", `/tenders/${tenderId}/bid/csv/${current.id}`);
      } catch (err) {
        /* already gone */
      }
      reset();
      status.classList.add("hidden");
      fileInput.value = "";
    }

    async function loadKeys() {
      const missing = byId("no-local-key");
      const keys = window.TenderKeys;
      if (!keys || !keys.supported()) {
        if (missing) {
          missing.textContent = (keys && keys.UNSUPPORTED) || t("This browser cannot make signatures.");
          show(missing, "error");
        }
        return;
      }
      try {
        localKeys = new Map((await keys.list()).map((r) => [r.fingerprint, r]));
      } catch (err) {
        if (missing) {
          missing.textContent = t("The keys stored in this browser cannot be read: {error}", { error: err.message });
          show(missing, "error");
        }
        return;
      }
      if (select) {
        Array.from(select.options).forEach((opt) => {
          if (!localKeys.has(opt.value)) opt.remove();
        });
        select.closest(".row").classList.toggle("hidden", select.options.length === 0);
      }
      if (missing) missing.classList.toggle("hidden", Boolean(select && select.options.length));
      button.disabled = working || !canSubmit();
      button.dataset.ready = "1";
    }

    // -- a qualified signature (КЭП): CryptoPro's plug-in or a signed file (qualified-sign.js)

    function offerKey() {
      const body = {};
      const values = criteria();
      if (values !== null) body.criteria = values;
      return { body, key: current ? `${current.id}:${JSON.stringify(body)}` : null };
    }

    function startQualified() {
      if (!window.QualifiedSign) return;
      window.QualifiedSign.start({
        open: () => root.dataset.open === "1" && Boolean(current) && !working,
        currentKey: () => offerKey().key,
        clear: () => errors.classList.add("hidden"),
        fail: (err) => showErrors(err.message || String(err), err.fields || {}),
        prepare: async () => {
          const { body, key } = offerKey();
          const prepared = await call("POST", `/tenders/${tenderId}/bid/csv/${current.id}/prepare`, body);
          const bytes = base64ToBytes(prepared.canonical_b64);
          checkSigned(bytes);
          return { bytes, name: `bid-${tenderNumber}-r${prepared.revision}.json`, key };
        },
        submit: async (signature) => {
          const { body } = offerKey();
          const accepted = await call("POST", `/tenders/${tenderId}/bid/csv/${current.id}/submit`, { ...body, signature });
          working = true; // the page moves to the bid form with the receipt
          result.textContent = accepted.extended
            ? t("Revision {n} accepted; the deadline was extended.", { n: accepted.number })
            : t("Revision {n} accepted.", { n: accepted.number });
          show(result, "success");
          window.setTimeout(() => {
            window.location.href = root.dataset.formUrl || `/tenders/${encodeURIComponent(tenderNumber)}/bid`;
          }, 1000);
        },
      });
    }

    function qualifiedRefresh() {
      const panel = byId("qualified-sign");
      if (panel) panel.dispatchEvent(new Event("qualified:refresh"));
    }

    form.addEventListener("submit", onUpload);
    button.addEventListener("click", onSubmit);
    startQualified();
    const discardQualified = byId("discard-csv-qualified");
    if (discardQualified) discardQualified.addEventListener("click", onDiscard);
    if (select) select.addEventListener("change", () => (button.disabled = working || !canSubmit()));
    byId("discard-csv").addEventListener("click", onDiscard);
    loadKeys();
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
