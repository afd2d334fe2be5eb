/*
 * The qualified signature (КЭП) panel of the bid form and of the CSV upload
 * (templates/bids/_qualified_sign.html; issue 24), two routes to one detached CAdES-BES
 * signature over the offer's canonical bytes:
 *
 *   CryptoPro's browser plug-in, when it answers in this browser: the certificates of the
 *   user's store are listed, the platform says which of them can sign for the organization
 *   (qualified, trusted, valid, not revoked, its INN and OGRN) and why the others cannot;
 *   the chosen one signs (CAdESCOM.CadesSignedData.SignCades, CADESCOM_CADES_BES, detached).
 *
 *   The file route, always: download the canonical file, sign it with cryptcp or openssl cms
 *   and the GOST engine, upload the .sig/.p7s.
 *
 * The page (bid-form.js, csv-upload.js) gives window.QualifiedSign.start(hooks):
 *   prepare()          -> Promise<{bytes, name, key}>: the offer checked by the platform, its
 *                         canonical bytes, a file name, and `key` (a string that changes
 *                         whenever the offer on the page changes)
 *   currentKey()       -> the key of the offer on the page now (null when there is none)
 *   submit(signature)  -> Promise: send the offer with the signature and show the result
 *   fail(err)          -> show an error (err.message, err.fields)
 *   clear()            -> hide earlier errors and results
 *   open()             -> whether the page may send now (bidding open, an offer to send)
 * The page dispatches "qualified:refresh" on #qualified-sign when open() may have changed.
 *
 * The plug-in's API (cadesplugin_api.js) is CryptoPro's: the operator serves it
 * (CRYPTOPRO_PLUGIN_API_URL, docs/signatures.md); window.cadesplugin is then a promise that
 * resolves once the browser extension answers, with CreateObjectAsync for its objects.
 */
(function () {
  "use strict";

  const { api, bytesToBase64, downloadBytes, formatMoment, signatureFileText, t } = window.Platform;
  const PLUGIN_WAIT_MS = 20000; // the extension starts the native host on first use
  const MAX_CERTIFICATES = 100; // schemas.MAX_STORE_CERTIFICATES

  function byId(id) {
    return document.getElementById(id);
  }

  // -- CryptoPro's plug-in ------------------------------------------------------------------

  // The plug-in's object once it answers, in a box: window.cadesplugin is itself a promise,
  // which an async function's result would adopt.
  async function plugin() {
    const cades = window.cadesplugin;
    if (!cades) return null;
    let timer = null;
    try {
      await Promise.race([
        Promise.resolve(cades),
        new Promise((resolve, reject) => {
          timer = window.setTimeout(() => reject(new Error("timeout")), PLUGIN_WAIT_MS);
        }),
      ]);
    } catch (e) {
      return null; // cadesplugin_api.js is there but the extension or CSP did not answer
    } finally {
      window.clearTimeout(timer);
    }
    return typeof cades.CreateObjectAsync === "function" ? { cades } : null;
  }

  // The certificates with a private key in the user's personal store, as base64 DER.
  async function storeCertificates(cades) {
    const store = await cades.CreateObjectAsync("CAdESCOM.Store");
    await store.Open(
      cades.CAPICOM_CURRENT_USER_STORE, cades.CAPICOM_MY_STORE, cades.CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED
    );
    try {
      const all = await store.Certificates;
      const count = Math.min(await all.Count, MAX_CERTIFICATES);
      const found = [];
      for (let i = 1; i <= count; i += 1) {
        const certificate = await all.Item(i);
        if (!(await certificate.HasPrivateKey())) continue;
        found.push({ certificate, der: await certificate.Export(cades.CADESCOM_ENCODE_BASE64) });
      }
      return found;
    } finally {
      await store.Close();
    }
  }

  // A detached CAdES-BES signature (base64) of `bytes` with the certificate's key; CryptoPro
  // adds signingCertificateV2 itself, the signing time is asked for.
  async function signCades(cades, certificate, bytes) {
    const signer = await cades.CreateObjectAsync("CAdESCOM.CPSigner");
    await signer.propset_Certificate(certificate);
    await signer.propset_CheckCertificate(true);
    const time = await cades.CreateObjectAsync("CADESCOM.CPAttribute");
    await time.propset_Name(cades.CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME);
    await time.propset_Value(new Date());
    const attributes = await signer.AuthenticatedAttributes2;
    await attributes.Add(time);
    const data = await cades.CreateObjectAsync("CAdESCOM.CadesSignedData");
    await data.propset_ContentEncoding(cades.CADESCOM_BASE64_TO_BINARY);
    await data.propset_Content(bytesToBase64(bytes));
    return data.SignCades(signer, cades.CADESCOM_CADES_BES, true);
  }

  // The plug-in's errors come as Error objects or strings, sometimes with its own codes
  // ("(0x8010006E)"): the user's cancel reads as such.
  function pluginMessage(err) {
    const text = (err && (err.message || String(err))) || "";
    if (/0x8010006E|0x800704C7|cancel/i.test(text)) return t("Signing was cancelled.");
    return t("CryptoPro could not sign: {error}", { error: text });
  }

  function describe(signer) {
    const parts = [signer.name || "—"];
    if (signer.organization) parts.push(signer.organization);
    parts.push(t("INN {inn}", { inn: signer.inn || "—" }));
    parts.push(t("valid to {at}", { at: formatMoment(signer.not_after, "Europe/Moscow").slice(0, 10) }));
    return parts.join(", ");
  }

  // -- the panel ----------------------------------------------------------------------------

  function start(hooks) {
    const panel = byId("qualified-sign");
    if (!panel) return;
    const status = byId("cryptopro-status");
    const download = byId("qualified-download");
    const fileInput = byId("qualified-signature");
    const send = byId("qualified-submit");
    const pluginRow = byId("cryptopro-sign");
    const choice = byId("cryptopro-certificate");
    const pluginSend = byId("cryptopro-submit");
    const unusable = byId("cryptopro-unusable");
    const maxBytes = Number(panel.dataset.maxSignatureBytes || 0);
    let working = false;
    let prepared = null; // {key, name} of the file downloaded to sign
    let cades = null;
    let certificates = []; // [{certificate, der}] usable ones, in the order of the select

    function refresh() {
      const idle = !working && hooks.open();
      send.disabled = !idle || !prepared || !fileInput.files.length;
      if (pluginSend) pluginSend.disabled = !idle || !cades || !certificates.length;
    }

    async function finish(signature) {
      working = true;
      refresh();
      try {
        await hooks.submit(signature);
      } catch (err) {
        hooks.fail(err);
      } finally {
        working = false;
        refresh();
      }
    }

    // The file route.
    fileInput.addEventListener("change", refresh);
    download.addEventListener("click", async () => {
      if (working) return;
      hooks.clear();
      try {
        const offer = await hooks.prepare();
        downloadBytes(offer.bytes, offer.name, "application/json");
        prepared = { key: offer.key, name: offer.name };
        byId("qualified-file-name").textContent = t("Downloaded {file}: sign it and upload the signature.", { file: offer.name });
      } catch (err) {
        prepared = null;
        hooks.fail(err);
      }
      refresh();
    });
    send.addEventListener("click", async () => {
      if (working || !prepared || !fileInput.files.length) return;
      hooks.clear();
      if (prepared.key !== hooks.currentKey()) {
        prepared = null;
        refresh();
        hooks.fail(new Error(t("The offer changed after the file was downloaded: download it again and sign the new file.")));
        return;
      }
      const file = fileInput.files[0];
      if (maxBytes && file.size > maxBytes) {
        hooks.fail(new Error(t("The signature file is too large (at most {kib} KiB).", { kib: Math.floor(maxBytes / 2048) })));
        return;
      }
      await finish(signatureFileText(new Uint8Array(await file.arrayBuffer())));
    });

    // The plug-in route.
    async function findCertificates() {
      const answered = await plugin();
      cades = answered && answered.cades;
      if (!cades || !pluginRow) {
        panel.dataset.plugin = "absent";
        return;
      }
      status.textContent = t("CryptoPro's browser plug-in is answering: looking for your certificates\u2026");
      try {
        const found = await storeCertificates(cades);
        const answer = found.length
          ? await api("POST", "/signatures/qualified/certificates", { certificates: found.map((f) => f.der) })
          : { certificates: [] };
        certificates = [];
        choice.textContent = "";
        unusable.textContent = "";
        answer.certificates.forEach((match) => {
          if (match.usable) {
            const option = document.createElement("option");
            option.value = String(certificates.length);
            option.textContent = describe(match.signer);
            option.dataset.fingerprint = match.fingerprint;
            choice.appendChild(option);
            certificates.push(found[match.index]);
          } else {
            const item = document.createElement("li");
            item.textContent = (match.signer ? describe(match.signer) + ": " : "") + match.problem;
            unusable.appendChild(item);
          }
        });
        byId("cryptopro-others").classList.toggle("hidden", !unusable.childElementCount);
        pluginRow.classList.remove("hidden");
        choice.closest(".row").classList.toggle("hidden", !certificates.length);
        status.textContent = certificates.length
          ? t("CryptoPro's browser plug-in found {n} certificate(s) that can sign for your organization.", { n: certificates.length })
          : t("CryptoPro's browser plug-in found no certificate that can sign for your organization: the reasons are listed below. You can still sign the file with your own tool.");
        panel.dataset.plugin = "ready";
      } catch (err) {
        cades = null;
        panel.dataset.plugin = "failed";
        status.textContent = t("CryptoPro's browser plug-in did not list the certificates: {error}. Sign the file with your own tool as below.", { error: err.message || String(err) });
      }
      refresh();
    }

    if (pluginSend) {
      pluginSend.addEventListener("click", async () => {
        const chosen = certificates[Number(choice.value)];
        if (working || !cades || !chosen) return;
        hooks.clear();
        working = true;
        refresh();
        let signature = null;
        try {
          const offer = await hooks.prepare();
          pluginSend.textContent = t("Signing\u2026");
          try {
            signature = await signCades(cades, chosen.certificate, offer.bytes);
          } catch (err) {
            throw new Error(pluginMessage(err));
          }
        } catch (err) {
          hooks.fail(err);
        } finally {
          pluginSend.textContent = pluginSend.dataset.idle || pluginSend.textContent;
          working = false;
        }
        if (signature) await finish(signature);
        refresh();
      });
      pluginSend.dataset.idle = pluginSend.textContent;
    }

    panel.addEventListener("qualified:refresh", refresh);
    refresh();
    window.Platform.ready.then(findCertificates);
  }

  window.QualifiedSign = { start };
})();
