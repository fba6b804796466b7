/* The exception board reloads itself when the server says an alert changed (console/live.py). No framework. */
(function () {
  var board = document.querySelector("[data-live]");
  if (!board || !window.EventSource) return;
  var note = document.getElementById("live-state");
  var source = new EventSource(board.getAttribute("data-live"));
  function busy() {
    var el = document.activeElement;
    return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) && el.value;
  }
  source.addEventListener("open", function () { if (note) note.textContent = note.getAttribute("data-on"); });
  source.addEventListener("changed", function () {
    if (busy()) { if (note) note.textContent = note.getAttribute("data-changed"); return; }
    source.close();
    window.location.reload();
  });
})();
