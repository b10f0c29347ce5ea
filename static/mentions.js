// Suggests members' names while a mention is typed: after "@" or "＠" and a few letters, a short
// list of matching display names appears under the text box; choosing one completes the name.
// The forms work without this script; a name typed in full is a mention all the same.
(function () {
  "use strict";
  var WAIT_MS = 250;
  var TYPED = /(^|[^A-Za-z0-9@＠._+\-\/])[@＠]([^\s@＠`]{1,20})$/;
  document.querySelectorAll("form textarea[name=body]:not([data-no-mentions])").forEach(function (box) {
    var list = document.createElement("ul");
    list.className = "mention-suggestions";
    list.hidden = true;
    box.insertAdjacentElement("afterend", list);
    var timer = null;
    var asked = 0;
    var typed = null;

    function close() {
      list.hidden = true;
      list.replaceChildren();
    }
    function choose(name) {
      var end = box.selectionStart;
      var start = end - typed.length - 1;
      box.setRangeText("@" + name, start, end, "end");
      close();
      box.focus();
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
    function show(answer) {
      close();
      if (!answer.names.length) return;
      list.setAttribute("aria-label", answer.label);
      answer.names.forEach(function (name) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = name;
        button.addEventListener("click", function () { choose(name); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = false;
    }
    function ask() {
      var before = box.value.slice(0, box.selectionStart);
      var match = TYPED.exec(before);
      if (!match) { typed = null; close(); return; }
      typed = match[2];
      var mine = ++asked;
      fetch("/members/suggest?q=" + encodeURIComponent(typed), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer && mine === asked) show(answer); })
        .catch(function () { /* offline: no suggestions, typing goes on */ });
    }
    box.addEventListener("input", function (event) {
      if (event.isTrusted === false) return;
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT_MS);
    });
    box.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "Escape") { close(); }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        list.querySelector("button").focus();
      }
    });
    list.addEventListener("keydown", function (event) {
      var current = document.activeElement.parentElement;
      if (event.key === "Escape") { close(); box.focus(); }
      if (event.key === "ArrowDown" && current.nextElementSibling) {
        event.preventDefault();
        current.nextElementSibling.querySelector("button").focus();
      }
      if (event.key === "ArrowUp") {
        event.preventDefault();
        if (current.previousElementSibling) current.previousElementSibling.querySelector("button").focus();
        else box.focus();
      }
    });
  });
})();
