// Autocomplete for the search box: fills its <datalist> from /api/suggest.
// Progressive enhancement: without this script the box is a plain search field.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!input || !list || !window.fetch) return;
  var endpoint = input.getAttribute("data-suggest");
  var timer = null, asked = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var text = input.value;
      if (text.trim().length < 2 || text === asked) return;
      asked = text;
      fetch(endpoint + "?q=" + encodeURIComponent(text), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value !== text) return;  // the user typed on
          list.replaceChildren.apply(list, data.suggestions.map(function (s) {
            var option = document.createElement("option");
            option.value = s;  // text, never HTML
            return option;
          }));
        })
        .catch(function () {});
    }, 150);
  });
})();
