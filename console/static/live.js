// Keeps the Waiting list current: the server sends the rendered list over
// server-sent events whenever it changes. Everything else works without it.
"use strict";
(function () {
  var held = document.getElementById("held");
  if (!held || !window.EventSource) return;
  var es = new EventSource("/events");
  es.addEventListener("held", function (e) {
    var active = document.activeElement;
    // Do not replace a form the reviewer is typing in.
    if (active && held.contains(active) && active.tagName === "INPUT" && active.value !== "") return;
    held.innerHTML = e.data;
  });
})();
