/*
 * Signing keys kept in this browser (WebCrypto + IndexedDB), no libraries.
 *
 * window.TenderKeys:
 *   supported()                      -> true when WebCrypto and IndexedDB are usable
 *   generate(label, passphrase|null) -> a new ECDSA P-256 key: registered on the platform,
 *                                       stored here non-extractable; with a passphrase an
 *                                       encrypted backup file is offered for download first
 *   restore(file, passphrase)        -> decrypts a backup file and stores the key again
 *   list()                           -> the key records stored in this browser
 *   sign(fingerprint, bytes)         -> base64 of the raw r||s ECDSA signature
 *   signChallenge(fingerprint[, keyId]) -> signs the platform's test payload and has the
 *                                       platform check it; resolves with its JSON answer
 *
 * IndexedDB "tenders-keys", store "keys" keyed by fingerprint (SHA-256 hex of the SPKI DER):
 *   {fingerprint, keyId, label, privateKey, publicKey, createdAt}
 * The private key is a non-extractable CryptoKey: page scripts can sign with it but can never
 * read it out. The only copy that can leave the browser is the passphrase-encrypted backup.
 *
 * Page wiring (keys page and "check my signature" page) happens on DOMContentLoaded. After a
 * key is generated or restored the keys table is read again from the server and replaced in
 * place (no reload: the confirmation stays on screen).
 */
(function () {
  "use strict";

  const DB_NAME = "tenders-keys";
  const STORE = "keys";
  const { api, base64ToBytes, downloadBytes, t } = window.Platform;
  const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };
  const SIGN_ALGORITHM = { name: "ECDSA", hash: "SHA-256" };
  const PBKDF2_ITERATIONS = 310000;
  const BACKUP_FORMAT = "tenders-key-backup";
  function unsupportedText() {
    return t("This browser cannot make signatures: use a current Chrome, Firefox, Edge or Yandex Browser over HTTPS.");
  }

  // -- feature detection ----------------------------------------------------------------------

  function supported() {
    try {
      return Boolean(
        window.isSecureContext !== false &&
          window.crypto &&
          window.crypto.subtle &&
          typeof window.crypto.subtle.generateKey === "function" &&
          window.indexedDB
      );
    } catch (e) {
      return false;
    }
  }

  function requireSupport() {
    if (!supported()) throw new Error(unsupportedText());
  }

  // -- encoding helpers -----------------------------------------------------------------------

  function toBytes(data) {
    if (data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (typeof data === "string") return new TextEncoder().encode(data);
    throw new TypeError("Expected bytes (ArrayBuffer, typed array) or a string.");
  }

  function bytesToBase64(data) {
    return window.Platform.bytesToBase64(toBytes(data));
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function spkiToPem(der) {
    const lines = bytesToBase64(der).match(/.{1,64}/g) || [];
    return "-----BEGIN PUBLIC KEY-----\n" + lines.join("\n") + "\n-----END PUBLIC KEY-----\n";
  }

  function pemToDer(pem) {
    const match = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(String(pem));
    if (!match) throw new Error(t("The backup does not hold a PEM public key."));
    return base64ToBytes(match[1]);
  }

  async function fingerprintOf(spkiDer) {
    return hex(await window.crypto.subtle.digest("SHA-256", toBytes(spkiDer)));
  }

  function randomBytes(n) {
    return window.crypto.getRandomValues(new Uint8Array(n));
  }

  // -- IndexedDB ------------------------------------------------------------------------------

  let dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = window.indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "fingerprint" });
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error || new Error(t("IndexedDB is not available.")));
        req.onblocked = () => reject(new Error(t("The key database is blocked by another tab.")));
      }).catch((err) => {
        dbPromise = null;
        throw err;
      });
    }
    return dbPromise;
  }

  async function withStore(mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      let result;
      if (req) req.onsuccess = () => { result = req.result; };
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error || (req && req.error));
      tx.onabort = () => reject(tx.error || new Error(t("The key database transaction was aborted.")));
    });
  }

  function putRecord(record) {
    return withStore("readwrite", (store) => store.put(record)).then(() => record);
  }

  function getRecord(fingerprint) {
    return withStore("readonly", (store) => store.get(fingerprint));
  }

  async function list() {
    requireSupport();
    const records = await withStore("readonly", (store) => store.getAll());
    return (records || []).sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  }

  // -- backups --------------------------------------------------------------------------------

  async function deriveBackupKey(passphrase, salt, iterations, usages) {
    const material = await window.crypto.subtle.importKey(
      "raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]
    );
    return window.crypto.subtle.deriveKey(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      usages
    );
  }

  async function encryptBackup(pkcs8, spkiPem, label, passphrase) {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const key = await deriveBackupKey(passphrase, salt, PBKDF2_ITERATIONS, ["encrypt"]);
    const data = await window.crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, pkcs8);
    return {
      format: BACKUP_FORMAT,
      version: 1,
      kdf: { name: "PBKDF2", hash: "SHA-256", iterations: PBKDF2_ITERATIONS, salt: bytesToBase64(salt) },
      cipher: { name: "AES-GCM", length: 256, iv: bytesToBase64(iv) },
      algorithm: { name: "ECDSA", namedCurve: "P-256" },
      data: bytesToBase64(data),
      spki_pem: spkiPem,
      label,
    };
  }

  async function decryptBackup(backup, passphrase) {
    if (!backup || backup.format !== BACKUP_FORMAT || backup.version !== 1) {
      throw new Error(t("This is not a key backup file made by this platform."));
    }
    const kdf = backup.kdf || {};
    const cipher = backup.cipher || {};
    if (kdf.name !== "PBKDF2" || kdf.hash !== "SHA-256" || cipher.name !== "AES-GCM") {
      throw new Error(t("This backup uses an encryption this page does not know."));
    }
    const key = await deriveBackupKey(
      passphrase, base64ToBytes(kdf.salt), Number(kdf.iterations) || PBKDF2_ITERATIONS, ["decrypt"]
    );
    try {
      return await window.crypto.subtle.decrypt(
        { name: "AES-GCM", iv: base64ToBytes(cipher.iv) }, key, base64ToBytes(backup.data)
      );
    } catch (e) {
      throw new Error(t("Wrong passphrase, or the backup file is damaged."));
    }
  }

  function backupFilename(label, fingerprint) {
    const slug = String(label || "key").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    return "tenders-key-" + (slug || "key") + "-" + fingerprint.slice(0, 16) + ".json";
  }

  // -- keys -----------------------------------------------------------------------------------

  function importPrivate(pkcs8) {
    // extractable=false: the stored key can sign, but can never be exported again.
    return window.crypto.subtle.importKey("pkcs8", pkcs8, ALGORITHM, false, ["sign"]);
  }

  function importPublic(spkiDer) {
    return window.crypto.subtle.importKey("spki", spkiDer, ALGORITHM, true, ["verify"]);
  }

  async function generate(label, passphrase) {
    requireSupport();
    const name = String(label || "").trim().slice(0, 100) || t("Browser key");
    const pair = await window.crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
    const spkiDer = await window.crypto.subtle.exportKey("spki", pair.publicKey);
    const spkiPem = spkiToPem(spkiDer);
    const fingerprint = await fingerprintOf(spkiDer);
    let pkcs8 = await window.crypto.subtle.exportKey("pkcs8", pair.privateKey);
    let backupOffered = false;
    if (passphrase) {
      const backup = await encryptBackup(pkcs8, spkiPem, name, passphrase);
      downloadBytes(JSON.stringify(backup, null, 2), backupFilename(name, fingerprint), "application/json");
      backupOffered = true;
    }
    const privateKey = await importPrivate(pkcs8);
    const publicKey = await importPublic(spkiDer);
    pkcs8 = null; // drop the only plaintext copy
    const registered = await api("POST", "/keys", { pem: spkiPem, label: name });
    const record = {
      fingerprint,
      keyId: registered.id,
      label: registered.label || name,
      privateKey,
      publicKey,
      createdAt: new Date().toISOString(),
    };
    await putRecord(record);
    return Object.assign({ backupOffered }, record);
  }

  function readFileText(file) {
    if (file && typeof file.text === "function") return file.text();
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsText(file);
    });
  }

  async function restore(file, passphrase) {
    requireSupport();
    if (!file) throw new Error(t("Choose the backup file."));
    if (!passphrase) throw new Error(t("Enter the backup's passphrase."));
    let backup;
    try {
      backup = JSON.parse(await readFileText(file));
    } catch (e) {
      throw new Error(t("This is not a key backup file made by this platform."));
    }
    const pkcs8 = await decryptBackup(backup, passphrase);
    const spkiDer = pemToDer(backup.spki_pem);
    const fingerprint = await fingerprintOf(spkiDer);
    const privateKey = await importPrivate(pkcs8);
    const publicKey = await importPublic(spkiDer);
    // The private key must belong to the public key in the file.
    const probe = new TextEncoder().encode("tenders-key-restore:" + fingerprint);
    const sig = await window.crypto.subtle.sign(SIGN_ALGORITHM, privateKey, probe);
    if (!(await window.crypto.subtle.verify(SIGN_ALGORITHM, publicKey, sig, probe))) {
      throw new Error(t("The backup file is inconsistent: its private and public keys differ."));
    }
    const keys = await api("GET", "/keys");
    let registered = (keys || []).find((k) => k.fingerprint === fingerprint);
    if (!registered) {
      registered = await api("POST", "/keys", {
        pem: backup.spki_pem,
        label: String(backup.label || "").slice(0, 100) || t("Restored key"),
      });
    }
    const record = {
      fingerprint,
      keyId: registered.id,
      label: registered.label || backup.label || "",
      privateKey,
      publicKey,
      createdAt: new Date().toISOString(),
    };
    await putRecord(record);
    return Object.assign({ revoked: Boolean(registered.revoked_at) }, record);
  }

  async function sign(fingerprint, bytes) {
    requireSupport();
    const record = await getRecord(fingerprint);
    if (!record || !record.privateKey) throw new Error(t("This key is not stored in this browser."));
    const signature = await window.crypto.subtle.sign(SIGN_ALGORITHM, record.privateKey, toBytes(bytes));
    return bytesToBase64(signature); // WebCrypto gives raw r||s (64 bytes)
  }

  async function signChallenge(fingerprint, keyId) {
    requireSupport();
    const record = await getRecord(fingerprint);
    if (!record) throw new Error(t("This key is not stored in this browser."));
    const challenge = await api("GET", "/signatures/challenge");
    const signature = await sign(fingerprint, base64ToBytes(challenge.canonical_b64));
    return api("POST", "/signatures/check", {
      payload: challenge.payload,
      signature,
      key_id: Number(keyId || record.keyId),
    });
  }

  window.TenderKeys = {
    supported,
    generate,
    restore,
    list,
    sign,
    signChallenge,
    fingerprintOf,
    spkiToPem,
    get UNSUPPORTED() {
      return unsupportedText();
    },
  };

  // -- page wiring ----------------------------------------------------------------------------

  function byId(id) {
    return document.getElementById(id);
  }

  function setMessage(el, text, kind) {
    if (!el) return;
    el.textContent = text;
    el.classList.remove("hidden", "flash-success", "flash-error", "flash-info");
    el.classList.add("flash", "flash-" + (kind || "info"));
  }

  function disable(ids) {
    ids.forEach((id) => {
      const el = byId(id);
      if (el) el.disabled = true;
    });
  }

  function busy(button, on, text) {
    if (!button) return;
    if (on) {
      button.dataset.idleText = button.textContent;
      button.textContent = text;
      button.disabled = true;
    } else {
      button.textContent = button.dataset.idleText || button.textContent;
      button.disabled = false;
    }
  }

  function wireKeysPage(status) {
    const generateBtn = byId("generate-key");
    const restoreBtn = byId("restore-key");
    if (!generateBtn && !restoreBtn) return;

    if (generateBtn) {
      generateBtn.addEventListener("click", async (ev) => {
        ev.preventDefault();
        const label = (byId("new-key-label") || {}).value || "";
        const passphraseEl = byId("new-key-passphrase");
        const passphrase = passphraseEl ? passphraseEl.value : "";
        busy(generateBtn, true, t("Generating\u2026"));
        try {
          const record = await generate(label, passphrase || null);
          if (passphraseEl) passphraseEl.value = "";
          const labelEl = byId("new-key-label");
          if (labelEl) labelEl.value = "";
          setMessage(
            status,
            record.backupOffered
              ? t("Key {fingerprint} generated and registered; keep the downloaded backup file safe.", { fingerprint: record.fingerprint.slice(0, 16) })
              : t("Key {fingerprint} generated and registered.", { fingerprint: record.fingerprint.slice(0, 16) }),
            "success"
          );
        } catch (err) {
          setMessage(status, t("The key was not created: {error}", { error: err.message }), "error");
          busy(generateBtn, false);
          return;
        }
        busy(generateBtn, false);
        await refreshKeysTable(status);
      });
    }

    if (restoreBtn) {
      restoreBtn.addEventListener("click", async (ev) => {
        ev.preventDefault();
        const fileEl = byId("restore-file");
        const passEl = byId("restore-passphrase");
        const file = fileEl && fileEl.files ? fileEl.files[0] : null;
        busy(restoreBtn, true, t("Restoring\u2026"));
        try {
          const record = await restore(file, passEl ? passEl.value : "");
          if (passEl) passEl.value = "";
          if (fileEl) fileEl.value = "";
          setMessage(
            status,
            record.revoked
              ? t("Key {fingerprint} restored in this browser (it is revoked: it cannot sign).", { fingerprint: record.fingerprint.slice(0, 16) })
              : t("Key {fingerprint} restored in this browser.", { fingerprint: record.fingerprint.slice(0, 16) }),
            record.revoked ? "info" : "success"
          );
        } catch (err) {
          setMessage(status, t("The key was not restored: {error}", { error: err.message }), "error");
          busy(restoreBtn, false);
          return;
        }
        busy(restoreBtn, false);
        await refreshKeysTable(status);
      });
    }
  }

  // The keys table as the server renders it now (the new key with its revoke form), put in
  // place of the old one; the message above stays. On failure the message says to reload.
  async function refreshKeysTable(status) {
    const table = byId("keys-table");
    if (!table) return;
    try {
      const resp = await fetch(window.location.pathname, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
        cache: "no-store",
      });
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      const fresh = doc.getElementById("keys-table");
      if (!fresh) throw new Error("no keys table in the answer");
      table.replaceWith(document.importNode(fresh, true));
      await markLocalKeys();
    } catch (err) {
      if (status) status.textContent += " " + t("Reload the page to see it in the list of keys.");
    }
  }

  async function markLocalKeys() {
    const marks = document.querySelectorAll(".local-mark[data-fingerprint]");
    if (!marks.length) return;
    const local = new Set((await list()).map((r) => r.fingerprint));
    marks.forEach((el) => {
      if (local.has(el.dataset.fingerprint)) {
        el.textContent = t("in this browser");
        el.classList.remove("hidden");
        const row = el.closest("tr");
        if (row) row.classList.add("local-key");
      }
    });
  }

  async function wireCheckPage(status) {
    const select = byId("check-key");
    const button = byId("sign-check");
    const result = byId("check-result");
    if (!select || !button) return;

    const local = new Set((await list()).map((r) => r.fingerprint));
    Array.from(select.options).forEach((opt) => {
      if (opt.value && !local.has(opt.value)) opt.remove();
    });
    const usable = Array.from(select.options).filter((opt) => opt.value);
    if (!usable.length) {
      button.disabled = true;
      setMessage(
        result,
        t("None of your active keys is stored in this browser: generate one on the signing keys page, or restore a backup there."),
        "info"
      );
      return;
    }
    if (!select.value) select.value = usable[0].value;
    button.disabled = false;

    button.addEventListener("click", async (ev) => {
      ev.preventDefault();
      const opt = select.options[select.selectedIndex];
      if (!opt || !opt.value) return;
      busy(button, true, t("Signing\u2026"));
      setMessage(result, t("Signing a test payload and asking the platform to check it\u2026"), "info");
      try {
        const answer = await signChallenge(opt.value, opt.dataset.keyId);
        setMessage(
          result,
          t("Signature verified: {algorithm}, key {fingerprint}", { algorithm: answer.algorithm, fingerprint: String(answer.fingerprint).slice(0, 16) }),
          "success"
        );
      } catch (err) {
        setMessage(result, err.message, "error");
      } finally {
        busy(button, false);
      }
    });
  }

  async function init() {
    const status = byId("webcrypto-status");
    if (!supported()) {
      setMessage(status, unsupportedText(), "error");
      disable(["generate-key", "restore-key", "sign-check", "check-key"]);
      return;
    }
    // Buttons are rendered disabled (so browsers that cannot run this script cannot click
    // them) and the status shows a "checking" notice until this point.
    if (status) status.classList.add("hidden");
    ["generate-key", "restore-key"].forEach((id) => {
      const el = byId(id);
      if (el) el.disabled = false;
    });
    wireKeysPage(status);
    try {
      await markLocalKeys();
      await wireCheckPage(status);
    } catch (err) {
      setMessage(status, t("The keys stored in this browser cannot be read: {error}", { error: err.message }), "error");
      disable(["sign-check"]);
    }
  }

  function initWhenReady() {
    window.Platform.ready.then(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initWhenReady);
  } else {
    initWhenReady();
  }
})();
