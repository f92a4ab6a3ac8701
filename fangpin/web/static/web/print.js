/* Print buttons ([data-print]) without inline handlers (the Content-Security-Policy forbids them). */
document.addEventListener("click", function (ev) {
  if (ev.target.closest && ev.target.closest("[data-print]")) window.print();
});
