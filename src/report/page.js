// Filtering the timeline by object, and marking the page as fully scripted (tests look for it).
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("#timeline .row"));
  var filter = document.getElementById("filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      rows.forEach(function (row) {
        var id = (row.getAttribute("data-id") || "").toLowerCase();
        row.classList.toggle("dim", needle !== "" && id.indexOf(needle) < 0);
      });
    });
  }
  document.documentElement.setAttribute("data-bars", String(document.querySelectorAll("#timeline rect.bar").length));
  document.documentElement.setAttribute("data-ready", "true");
})();
