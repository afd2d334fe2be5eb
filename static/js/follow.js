/*
 * Follow / unfollow buttons in tender lists (templates/_macros/follow.html): each is a form
 * that works without script; here it calls the API (PUT or DELETE
 * /api/v1/tenders/<id>/follow with the session's CSRF token) and switches in place, so the
 * list keeps its scroll and filters. On any failure the form is submitted as it is.
 */
(function () {
  "use strict";

  if (window.FollowButtons) return; // included by several partials of one page
  window.FollowButtons = true;

  function t(key) {
    return window.Platform && typeof window.Platform.t === "function" ? window.Platform.t(key) : key;
  }

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function show(form, following) {
    form.dataset.following = following ? "1" : "0";
    form.action = "/tenders/" + encodeURIComponent(form.dataset.number) + (following ? "/unfollow" : "/follow");
    const button = form.querySelector("button");
    if (!button) return;
    button.textContent = following ? t("Following") : t("Follow");
    button.title = following
      ? t("Remove from followed tenders")
      : t("Add to followed tenders: its changes, answers and deadline reach you");
    button.classList.toggle("on", following);
    button.setAttribute("aria-pressed", following ? "true" : "false");
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("follow-toggle")) return;
    ev.preventDefault();
    const following = form.dataset.following === "1";
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      const resp = await fetch("/api/v1/tenders/" + form.dataset.tender + "/follow", {
        method: following ? "DELETE" : "PUT",
        headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!resp.ok) {
        form.submit();
        return;
      }
      const body = await resp.json();
      show(form, Boolean(body.following));
    } catch (e) {
      form.submit();
    } finally {
      if (button) button.disabled = false;
    }
  });
})();
