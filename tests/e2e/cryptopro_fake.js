/*
 * A stand-in for CryptoPro's browser plug-in in the tests (tests/e2e/test_browser_cryptopro.py):
 * window.cadesplugin with the asynchronous object API cadesplugin_api.js gives in Chrome
 * (a promise with CreateObjectAsync; properties and methods answer promises). The store holds
 * the test centre's certificates; SignCades hands the content to window.__gostSign, which the
 * test exposes: `openssl cms -sign` with Debian's GOST engine and the certificate's key, as
 * CryptoPro CSP would sign. Every call is recorded in window.__cryptoproCalls.
 */
(() => {
  const STORE = __STORE__; // [{name, der, hasKey}]
  const calls = (window.__cryptoproCalls = []);
  const later = (value) => new Promise((resolve) => window.setTimeout(() => resolve(value), 5));
  const constants = {
    CAPICOM_CURRENT_USER_STORE: 2,
    CAPICOM_MY_STORE: "My",
    CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED: 2,
    CADESCOM_ENCODE_BASE64: 0,
    CADESCOM_BASE64_TO_BINARY: 1,
    CADESCOM_CADES_BES: 1,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0,
  };

  function certificate(entry) {
    return {
      name: entry.name,
      HasPrivateKey: () => later(entry.hasKey),
      Export: (encoding) =>
        encoding === constants.CADESCOM_ENCODE_BASE64 ? later(entry.der) : Promise.reject(new Error("encoding")),
    };
  }

  const objects = {
    "CAdESCOM.Store": () => {
      let open = false;
      return {
        Open: (location, name, mode) => {
          calls.push(["Store.Open", location, name, mode]);
          open = true;
          return later();
        },
        Close: () => {
          open = false;
          return later();
        },
        get Certificates() {
          if (!open) return Promise.reject(new Error("the store is not open"));
          const items = STORE.map(certificate);
          return later({ Count: later(items.length), Item: (i) => later(items[i - 1]) });
        },
      };
    },
    "CAdESCOM.CPSigner": () => {
      const state = { attributes: [] };
      return {
        state,
        propset_Certificate: (c) => later((state.certificate = c)),
        propset_CheckCertificate: (v) => later((state.check = v)),
        get AuthenticatedAttributes2() {
          return later({ Add: (a) => later(state.attributes.push(a.state)) });
        },
      };
    },
    "CADESCOM.CPAttribute": () => {
      const state = {};
      return {
        state,
        propset_Name: (n) => later((state.name = n)),
        propset_Value: (v) => later((state.value = v)),
      };
    },
    "CAdESCOM.CadesSignedData": () => {
      const state = {};
      return {
        propset_ContentEncoding: (e) => later((state.encoding = e)),
        propset_Content: (c) => later((state.content = c)),
        SignCades: async (signer, type, detached) => {
          const times = signer.state.attributes.filter(
            (a) => a.name === constants.CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME && a.value instanceof Date
          );
          calls.push(["SignCades", signer.state.certificate.name, type, detached, state.encoding, times.length]);
          if (window.__cryptoproCancel) throw new Error("Действие было отменено пользователем. (0x8010006E)");
          if (type !== constants.CADESCOM_CADES_BES || detached !== true) throw new Error("not a detached CAdES-BES");
          if (state.encoding !== constants.CADESCOM_BASE64_TO_BINARY) throw new Error("content not binary");
          return window.__gostSign(signer.state.certificate.name, state.content);
        },
      };
    },
  };

  const plugin = later();
  Object.assign(plugin, constants, {
    CreateObjectAsync: (name) => {
      calls.push(["CreateObjectAsync", name]);
      return objects[name] ? later(objects[name]()) : Promise.reject(new Error("unknown object " + name));
    },
  });
  window.cadesplugin = plugin;
})();
