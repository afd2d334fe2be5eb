/*
 * What the page scripts share (loaded by base.html before them): window.Platform =
 *   api(method, path, body)  the JSON API under /api/v1, same origin, with the CSRF header;
 *                            resolves with the answer (null for 204), rejects with
 *                            apiError(): Error with status, code, fields, problems
 *   apiError(status, data, message), csrfToken(), API (the prefix)
 *   base64ToBytes(text), bytesToBase64(bytes), signatureFileText(bytes) (an uploaded .sig/.p7s as the API takes
 *                            it: DER as base64, a base64 or PEM text as it is),
 *   downloadBytes(bytes, filename, type) (save bytes as a file from the page),
 *   formatMoment(iso, zone) (a moment in a tender's time zone, named:
 *                            "06.12.2026 14:30:05 МСК"; "MSK" in English)
 *   lang                     the page's language (<html lang>): "ru" or "en"
 *   t(key, params)           the text of an English source string in the page's language,
 *                            from static/i18n/<lang>.json; {name} placeholders are filled
 *                            from params; an entry may hold plural forms
 *                            {"one", "few", "many", "other"} chosen by params.n
 *   ready                    a promise resolved once the catalog is loaded (scripts that
 *                            write text at start wait for it; docs/i18n.md)
 */
(function () {
  "use strict";

  const API = "/api/v1";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function apiError(status, data, message) {
    const error = (data && data.error) || {};
    const err = new Error(
      error.message || message || t("The platform answered {status}.", { status: status })
    );
    err.status = status;
    err.code = error.code;
    err.fields = error.fields || {};
    err.problems = (data && data.problems) || null;
    return err;
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(API + path, init);
    } catch (e) {
      throw apiError(
        0, null, t("The platform cannot be reached: check the connection and try again.")
      );
    }
    if (resp.status === 204) return null;
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) throw apiError(resp.status, data);
    return data;
  }

  function base64ToBytes(text) {
    const binary = window.atob(String(text).replace(/\s+/g, ""));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
    return out;
  }

  // -- the page's language --------------------------------------------------------------

  const lang = document.documentElement.lang === "en" ? "en" : "ru";
  let catalog = {};

  function load() {
    const meta = document.querySelector('meta[name="i18n-catalog"]');
    // English: the source strings, and en.json holds only the plural entries' English forms
    if (!meta) return Promise.resolve();
    return fetch(meta.getAttribute("content"), { credentials: "same-origin" })
      .then((resp) => (resp.ok ? resp.json() : {}))
      .then((data) => { catalog = data || {}; })
      .catch(() => { catalog = {}; });
  }

  const ready = load();
  const plurals = new Intl.PluralRules(lang === "en" ? "en" : "ru");

  function t(key, params) {
    let text = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : key;
    if (text && typeof text === "object") {
      text = text[plurals.select(Number((params && params.n) || 0))] || text.other || key;
    }
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }

  // The zones' names as the server writes them (core/formats.py); others by UTC offset.
  const ZONE_NAMES = { "Europe/Moscow": { ru: "МСК", en: "MSK" } };

  function zoneLabel(date, zone) {
    if (ZONE_NAMES[zone]) return ZONE_NAMES[zone][lang];
    try {
      const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
        .formatToParts(date).find((p) => p.type === "timeZoneName");
      const name = part ? part.value.replace("GMT", "UTC") : zone;
      return name === "UTC" ? "UTC" : name;
    } catch (e) {
      return zone;
    }
  }

  function formatMoment(iso, zone) {
    const date = new Date(iso);
    try {
      const text = new Intl.DateTimeFormat("ru-RU", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      }).format(date).replace(",", "");
      return text + " " + zoneLabel(date, zone);
    } catch (e) {
      return iso;
    }
  }

  function bytesToBase64(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return window.btoa(binary);
  }

  function signatureFileText(bytes) {
    if (bytes.length && bytes[0] === 0x30) return bytesToBase64(bytes);
    return new TextDecoder().decode(bytes);
  }

  // bytes: a Uint8Array or a string. The object URL is freed once the browser took the file.
  function downloadBytes(bytes, filename, type) {
    const url = URL.createObjectURL(new Blob([bytes], { type: type || "application/octet-stream" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.rel = "noopener";
    a.className = "hidden";
    document.body.appendChild(a);
    a.click();
    window.setTimeout(() => {
      URL.revokeObjectURL(url);
      a.remove();
    }, 60000);
  }

  window.Platform = {
    API, api, apiError, csrfToken, base64ToBytes, bytesToBase64, signatureFileText, downloadBytes,
    formatMoment, lang, t, ready,
  };
})();
