/*
 * The bid form's approval panel: "Send the offer for approval" posts the offer typed in the
 * form (window.BidForm.offerBody, bid-form.js) with a comment to
 * POST /api/v1/tenders/<id>/bid/approvals; the platform prepares its exact payload and the
 * managers approve that payload's hash. The page then reloads to show the timeline.
 */
(function () {
  "use strict";

  function start() {
    const button = document.getElementById("send-bid-approval");
    const root = document.getElementById("bid-form");
    if (!button || !root) return;
    const { api, t } = window.Platform;
    const result = document.getElementById("bid-approval-result");
    button.addEventListener("click", async () => {
      if (!window.BidForm) return;
      const { body, problems } = window.BidForm.offerBody();
      if (problems.length) {
        const fields = {};
        problems.forEach(([field, text]) => (fields[field] = (fields[field] || []).concat(text)));
        window.BidForm.showErrors(t("The offer has {n} problem(s); nothing was sent.", { n: problems.length }), fields);
        return;
      }
      const comment = document.getElementById("bid-approval-comment").value;
      button.disabled = true;
      try {
        const sent = await api("POST", `/tenders/${root.dataset.tenderId}/bid/approvals`, { ...body, comment });
        result.textContent = t("Sent for approval: payload {version}.", { version: sent.version.slice(0, 12) });
        result.className = "flash flash-success";
        window.setTimeout(() => window.location.reload(), 800);
      } catch (err) {
        window.BidForm.showErrors(err.message || String(err), err.fields || {});
        button.disabled = false;
      }
    });
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
