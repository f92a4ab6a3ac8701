/* fangpin visit outbox: visits typed on a phone are kept in IndexedDB until the server has stored them.
 * Plain JS, no build step. The server answers every send with a status (stored | duplicate | conflict |
 * rejected); only stored/duplicate remove a visit from the outbox. A network error, a server error, a login
 * page or anything that is not that JSON answer leaves the visit queued and counts as a failed attempt —
 * the outbox never says "sent" for a visit the server has not confirmed with its id. */
(function () {
  "use strict";
  if (window.fangpinOutbox) return; // loaded once per page (menu badge and visit page both include it)
  var DB_NAME = "fangpin-outbox";
  var STORE = "visits";
  var SENT = "sent";
  // configuration from the page (no inline script: the Content-Security-Policy forbids it)
  var el = document.getElementById("outbox-config");
  var cfg = el ? { syncUrl: el.dataset.syncUrl, tokenUrl: el.dataset.tokenUrl, swUrl: el.dataset.swUrl, scope: el.dataset.scope } : {};
  window.FANGPIN_OUTBOX = cfg;
  var SYNC_URL = cfg.syncUrl || "/visits/sync/";
  var TOKEN_URL = cfg.tokenUrl || "/visits/sync/token/";
  var RETRY_MS = cfg.retryMs || 15000;
  var syncing = false;
  var listeners = [];

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "key" });
        if (!db.objectStoreNames.contains(SENT)) db.createObjectStore(SENT, { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var s = t.objectStore(store);
        var out = fn(s);
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function all(store) {
    return tx(store || STORE, "readonly", function (s) { return s.getAll(); });
  }

  function put(item) { return tx(STORE, "readwrite", function (s) { s.put(item); }); }

  function remove(key) { return tx(STORE, "readwrite", function (s) { s.delete(key); }).then(changed); }

  function add(payload, label) {
    var item = {
      key: newKey(),
      created: new Date().toISOString(),
      label: label || "",
      payload: payload,
      state: "pending",
      message: "",
      existing: null,
      attempts: 0,
      lastTry: null,
      keepBoth: false,
    };
    return put(item).then(function () { changed(); return item; });
  }

  function keepBoth(key) {
    return get(key).then(function (item) {
      if (!item) return;
      item.keepBoth = true;
      item.state = "pending";
      item.message = "";
      return put(item);
    }).then(function () { changed(); return sync(); });
  }

  function get(key) { return tx(STORE, "readonly", function (s) { return s.get(key); }); }

  function changed() {
    return all().then(function (items) {
      listeners.forEach(function (fn) { try { fn(items); } catch (e) { /* a listener must not stop sync */ } });
      return items;
    });
  }

  function onChange(fn) { listeners.push(fn); changed(); }

  function token() {
    return fetch(TOKEN_URL, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        var ct = r.headers.get("Content-Type") || "";
        if (!r.ok || ct.indexOf("application/json") < 0) throw new Error(r.status === 401 ? "login" : "http");
        return r.json();
      })
      .then(function (j) { return j.csrf; });
  }

  function sendOne(item, csrf) {
    var body = Object.assign({}, item.payload, { client_key: item.key, keep_both: !!item.keepBoth });
    return fetch(SYNC_URL, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      if (r.status === 401) throw new Error("login");
      if (!r.ok || ct.indexOf("application/json") < 0) throw new Error("http " + r.status);
      return r.json();
    }).then(function (res) {
      if (!res || typeof res.status !== "string") throw new Error("bad answer");
      if ((res.status === "stored" || res.status === "duplicate") && res.visit_id) {
        return tx(SENT, "readwrite", function (s) {
          s.put({ key: item.key, label: item.label, visit_id: res.visit_id, at: new Date().toISOString() });
        }).then(function () { return remove(item.key); }).then(function () { return res; });
      }
      if (res.status === "conflict" || res.status === "rejected") {
        item.state = res.status;
        item.message = res.message || "";
        item.existing = res.existing || null;
        item.field = res.field || "";
        return put(item).then(function () { return res; });
      }
      throw new Error("unknown status " + res.status);
    });
  }

  function sync() {
    if (syncing) return Promise.resolve({ skipped: true });
    syncing = true;
    var report = { stored: 0, failed: 0, kept: 0, login: false };
    return all().then(function (items) {
      var pending = items.filter(function (i) { return i.state === "pending" || i.state === "sending"; });
      if (!pending.length) return report;
      return token().then(function (csrf) {
        return pending.reduce(function (p, item) {
          return p.then(function () {
            item.attempts += 1;
            item.lastTry = new Date().toISOString();
            return put(item).then(function () { return sendOne(item, csrf); }).then(function (res) {
              if (res.status === "stored" || res.status === "duplicate") report.stored += 1;
              else report.kept += 1;
            }, function () {
              report.failed += 1;
              item.message = "发送失败，将自动重试（第" + item.attempts + "次）";
              return put(item);
            });
          });
        }, Promise.resolve());
      }, function (why) {
        report.failed = pending.length;
        report.login = why && why.message === "login";
        return Promise.all(pending.map(function (item) {
          item.attempts += 1;
          item.lastTry = new Date().toISOString();
          item.message = report.login ? "登录已过期：请重新登录，之后自动发送" :
            (navigator.onLine ? "未能连接服务器，将自动重试（第" + item.attempts + "次）" : "当前离线，联网后自动发送");
          return put(item);
        }));
      }).then(function () { return report; });
    }).then(function (r) {
      syncing = false;
      return changed().then(function () { return r; });
    }, function (err) {
      syncing = false;
      throw err;
    });
  }

  window.addEventListener("online", function () { sync(); });
  setInterval(function () {
    all().then(function (items) {
      if (items.some(function (i) { return i.state === "pending"; }) && navigator.onLine) sync();
    });
  }, RETRY_MS);

  window.fangpinOutbox = {
    add: add, all: all, sent: function () { return all(SENT); }, remove: remove, keepBoth: keepBoth,
    sync: sync, onChange: onChange, get: get,
  };
})();
