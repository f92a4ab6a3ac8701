/* fangpin service worker for the phone visit pages (scope /visits/). Served by the web app at
 * /visits/sw.js so its scope covers the pages; the cache name carries the asset version the server renders
 * into FANGPIN_SW_VERSION below. Pages: network first, the last good copy when offline. Static assets: cache
 * first. POSTs are never cached or replayed here — the IndexedDB outbox (outbox.js) owns unsent visits. */
/* global self, caches, fetch */
"use strict";
var VERSION = self.FANGPIN_SW_VERSION || "v1";
var CACHE = "fangpin-visits-" + VERSION;
var PRECACHE = self.FANGPIN_SW_PRECACHE || [];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (c) {
      return Promise.all(PRECACHE.map(function (u) {
        return fetch(u, { credentials: "same-origin" }).then(function (r) {
          if (r.ok && !r.redirected) return c.put(u, r);
        }).catch(function () { /* precache what we can; the page is cached on its first visit */ });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) {
        return k.indexOf("fangpin-visits-") === 0 && k !== CACHE;
      }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isStatic(url) { return url.pathname.indexOf("/static/") === 0; }

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/visits/sync/") === 0) return; // sync answers are never cached
  if (isStatic(url)) {
    event.respondWith(
      caches.match(req).then(function (hit) {
        return hit || fetch(req).then(function (r) {
          if (r.ok) { var copy = r.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); }
          return r;
        });
      })
    );
    return;
  }
  if (req.mode === "navigate" || (req.headers.get("Accept") || "").indexOf("text/html") >= 0) {
    event.respondWith(
      fetch(req).then(function (r) {
        if (r.ok && !r.redirected) {
          var copy = r.clone();
          caches.open(CACHE).then(function (c) { c.put(req, copy); });
        }
        return r;
      }).catch(function () {
        return caches.match(req, { ignoreSearch: false }).then(function (hit) {
          return hit || caches.match(url.pathname, { ignoreSearch: true }) || caches.match("/visits/");
        }).then(function (hit) {
          return hit || new Response(
            "<!doctype html><meta charset=utf-8><title>离线</title><p>当前离线，此页面尚未缓存。请联网后打开一次“走访”页面。</p>",
            { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
          );
        });
      })
    );
  }
});
