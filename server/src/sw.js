// Ferrodesk service worker. Served by the server at /sw.js with this build's asset names filled in.
//
// What it caches: the offline page, the stylesheet and icons (at install), and the content-hashed files
// under /pkg (on first use; their names change whenever their content does).
// What it never caches: /api, and any HTML page other than the offline page. Pages may show a signed-in
// person's data; they always come from the network, and when the network is gone the offline page is shown.
const CACHE = "ferrodesk-__VERSION__";
const OFFLINE = "__OFFLINE__";
const PRECACHE = [OFFLINE, "__STYLESHEET__", "/favicon.svg", "/icons/icon-192.png"];
const CACHE_PKG = __CACHE_PKG__;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((name) => name.startsWith("ferrodesk-") && name !== CACHE).map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return;

  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
    return;
  }
  if (CACHE_PKG && url.pathname.startsWith("/pkg/")) {
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match(request).then(
          (hit) =>
            hit ||
            fetch(request).then((response) => {
              if (response.ok) cache.put(request, response.clone());
              return response;
            }),
        ),
      ),
    );
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
});
