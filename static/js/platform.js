/*
 * What the page scripts share (loaded by base.html before them): window.Platform =
 *   api(method, path, body)  the JSON API under /api/v1, same origin, with the CSRF header;
 *                            resolves with the answer (null for 204), rejects with
 *                            apiError(): Error with status, code, fields, problems
 *   apiError(status, data, message), csrfToken(), API (the prefix)
 *   base64ToBytes(text), formatMoment(iso, zone) (a moment in a tender's time zone, named)
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
    const err = new Error(error.message || message || "The platform answered " + status + ".");
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
      throw apiError(0, null, "The platform cannot be reached: check the connection and try again.");
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

  function formatMoment(iso, zone) {
    try {
      return new Intl.DateTimeFormat("ru-RU", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
      }).format(new Date(iso));
    } catch (e) {
      return iso;
    }
  }

  window.Platform = { API, api, apiError, csrfToken, base64ToBytes, formatMoment };
})();
