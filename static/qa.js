// Makes a Q&A slot's answers arrive live. The page works without this script (reload to see new
// answers); with it, answers appear, change and go by themselves as the expert publishes them.
// The server renders every card, so the script only places it. After a dropped connection it
// reconnects (backing off, with jitter) and asks for exactly the changes after the last it saw.
(function () {
  "use strict";
  var list = document.getElementById("qa-answers");
  if (!list || !window.WebSocket) {
    return;
  }
  var slotId = list.dataset.slot;
  var lastSeq = Number(list.dataset.seq) || 0;
  var liveLine = document.getElementById("qa-live");
  var none = document.getElementById("qa-none");
  var attempt = 0;
  var stopped = false;

  function say(words) {
    liveLine.textContent = words;
    liveLine.hidden = !words;
  }

  function place(question, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var card = holder.firstElementChild;
    if (!card) {
      return;
    }
    var old = document.getElementById("q" + question);
    if (old) {
      old.replaceWith(card);
    } else {
      list.append(card);
    }
    none.hidden = true;
  }

  function removeCard(question) {
    var old = document.getElementById("q" + question);
    if (old) {
      old.remove();
    }
    none.hidden = list.children.length > 0;
  }

  function received(event) {
    var frame;
    try {
      frame = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (typeof frame.seq === "number" && frame.seq > lastSeq) {
      lastSeq = frame.seq;
    }
    if (frame.type === "hello") {
      attempt = 0;
      say(list.dataset.textLive);
    } else if (frame.type === "answer") {
      place(frame.question, frame.html);
    } else if (frame.type === "removed") {
      removeCard(frame.question);
    }
  }

  function retry(soon) {
    attempt += 1;
    var base = soon ? 500 : Math.min(30000, 1000 * Math.pow(2, attempt - 1));
    setTimeout(connect, base / 2 + Math.random() * base / 2);
  }

  function connect() {
    if (stopped) {
      return;
    }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/qa/slots/" + slotId + "/live?since=" + lastSeq);
    socket.addEventListener("message", received);
    socket.addEventListener("close", function (event) {
      if (event.code === 4401 || event.code === 4403) {
        stopped = true;
        say(list.dataset.textReload);
        return;
      }
      say(list.dataset.textOffline);
      retry(event.code === 1001);
    });
  }

  connect();
})();
