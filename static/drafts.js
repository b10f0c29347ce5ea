// Keeps a draft of a topic or reply on the server while it is written, a few seconds after
// typing stops, so a locked phone or a lost connection never loses a long post. The forms work
// without this script; it only adds the saving.
(function () {
  "use strict";
  var WAIT_MS = 3000;
  document.querySelectorAll("form[data-draft-place]").forEach(function (form) {
    var status = form.querySelector(".draft-status");
    var timer = null;
    var last = null;
    function snapshot() {
      var data = new URLSearchParams();
      data.set("csrf", form.querySelector("input[name=csrf]").value);
      // The forum index's form has no place of its own: the draft goes with the chosen category.
      var chooser = form.querySelector("select[name=category]");
      if (chooser && !chooser.value) return null;
      data.set("place", chooser ? "topic:" + chooser.value : form.getAttribute("data-draft-place"));
      var title = form.querySelector("[name=title]");
      data.set("title", title ? title.value : "");
      data.set("body", form.querySelector("[name=body]").value);
      return data;
    }
    function save() {
      var data = snapshot();
      if (!data) return;
      var text = data.toString();
      if (text === last) return;
      fetch("/drafts", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) {
          if (response.ok) {
            last = text;
            if (status) status.textContent = status.getAttribute("data-saved");
          }
        })
        .catch(function () { /* offline: the next change tries again */ });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(save, WAIT_MS);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") save();
    });
  });
})();
