/* The unsent-visit count in the menu, on every page (the visit page renders its own list too). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.fangpinOutbox || !window.indexedDB) return;
    window.fangpinOutbox.onChange(function (items) {
      document.querySelectorAll("[data-outbox-count]").forEach(function (el) { el.textContent = String(items.length); });
    });
  });
})();
