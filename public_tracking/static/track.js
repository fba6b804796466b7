// Enhancements only: the page works without this file.
(function () {
  var d = document, b = d.body, toastTimer;
  b.classList.add("js");

  function toast(text) {
    var el = d.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.classList.add("on");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.classList.remove("on"); }, 1800);
  }

  function say(text) {
    var el = d.getElementById("said");
    if (el) { el.textContent = ""; setTimeout(function () { el.textContent = text; }, 50); }
  }

  function arm(root) {
    root.querySelectorAll("[data-copy]").forEach(function (btn) { btn.hidden = false; });
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = d.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "vh";
    b.appendChild(area);
    area.select();
    try { d.execCommand("copy"); } finally { b.removeChild(area); }
    return Promise.resolve();
  }

  d.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    copy(btn.getAttribute("data-copy")).then(function () { toast(b.dataset.copied); say(b.dataset.copied); });
  });

  d.addEventListener("submit", function (e) {
    var btn = e.target.querySelector("button[type=submit]");
    if (btn) setTimeout(function () { btn.disabled = true; }, 0);
  });

  arm(d);

  var url = b.dataset.live;
  if (!url || !window.EventSource) return;
  var source = new EventSource(url), badge = d.getElementById("live");
  source.onopen = function () { if (badge) badge.classList.add("on"); };
  source.onerror = function () { if (badge) badge.classList.remove("on"); };
  source.addEventListener("card", function (e) {
    var m = JSON.parse(e.data), old = d.getElementById("card-" + m.number);
    if (!old) return;
    var was = old.querySelector("details"), box = d.createElement("div");
    box.innerHTML = m.html;
    var card = box.firstElementChild, now = card.querySelector("details");
    if (was && now) now.open = was.open;
    old.parentNode.replaceChild(card, old);
    arm(card);
    card.classList.add("flash");
    toast(m.say);
    say(m.say);
  });
})();
