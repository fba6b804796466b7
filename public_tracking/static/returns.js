// The return form only: checks photos in the browser before the upload (the server checks again).
(function () {
  var form = document.querySelector("form.ret");
  if (!form) return;
  var input = form.querySelector("#photos"), msg = form.querySelector("#photo-msg");
  var max = +form.dataset.max, maxBytes = +form.dataset.maxBytes, types = ["image/jpeg", "image/png", "image/webp"];

  function check() {
    var files = input.files || [], problem = "";
    if (files.length > max) problem = form.dataset.tooMany;
    for (var i = 0; !problem && i < files.length; i++) {
      if (files[i].size > maxBytes) problem = form.dataset.tooBig.replace("{name}", files[i].name);
      else if (types.indexOf(files[i].type) < 0) problem = form.dataset.notImage.replace("{name}", files[i].name);
    }
    input.setCustomValidity(problem);
    msg.textContent = problem;
    msg.hidden = !problem;
    return !problem;
  }

  input.addEventListener("change", check);
  form.addEventListener("submit", function (e) {
    if (!check()) { e.preventDefault(); e.stopImmediatePropagation(); input.focus(); }
  }, true);
})();
