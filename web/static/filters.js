// On a phone the filters fold into one bar above the results; on a wide screen they are a
// sidebar, always open. Without this script they are open everywhere (still above the results).
(function () {
  "use strict";
  var filters = document.querySelector("details.filters");
  if (!filters || !window.matchMedia) return;
  var narrow = window.matchMedia("(max-width: 720px)");
  function fit() { filters.open = !narrow.matches; }
  fit();
  narrow.addEventListener("change", fit);
})();
