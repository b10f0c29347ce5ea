// Makes a café room live. The page works without this script: it shows the latest messages and
// the form posts a message (the page reloads). With it, the same form sends over a WebSocket,
// new messages and removals appear by themselves, the list of who is here follows, and the
// facilitator's buttons act without leaving the page. After a dropped connection it reconnects
// (backing off, with jitter) and asks for exactly the changes after the last one it saw.
(function () {
  "use strict";
  var room = document.getElementById("cafe-room");
  if (!room || !window.WebSocket) {
    return;
  }
  var roomId = room.dataset.room;
  var csrf = room.dataset.csrf;
  var lastSeq = Number(room.dataset.seq) || 0;
  var keeps = room.dataset.keeps === "1";
  var me = null;
  var list = document.getElementById("cafe-messages");
  var form = document.getElementById("compose");
  var box = document.getElementById("cafe-body");
  var notice = document.getElementById("cafe-notice");
  var statusLine = document.getElementById("cafe-status");
  var liveLine = document.getElementById("cafe-live");
  var presence = document.getElementById("cafe-presence");
  var socket = null;
  var attempt = 0;
  var retryTimer = null;
  var stopped = false;
  var pending = {};
  var nonceCounter = 0;

  function text(name) {
    return room.dataset["text" + name] || "";
  }
  function say(line, words) {
    if (line) {
      line.textContent = words;
      line.hidden = !words;
    }
  }
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  }

  function actionForm(path, label) {
    var f = document.createElement("form");
    f.method = "post";
    f.action = path;
    f.className = "inline";
    f.dataset.live = "";
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf";
    token.value = csrf;
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "link";
    button.textContent = label;
    f.append(token, button);
    return f;
  }

  function render(m) {
    var li = document.createElement("li");
    li.id = "m" + m.id;
    li.className = "cafe-message" + (m.held ? " held" : "") + (m.author.id === me ? " mine" : "");
    li.dataset.id = m.id;
    li.dataset.author = m.author.id;
    var meta = document.createElement("p");
    meta.className = "cafe-meta";
    var author = document.createElement("span");
    author.className = "cafe-author";
    author.textContent = m.author.name;
    meta.append(author);
    var roleLabel = room.dataset["role" + m.author.role.charAt(0).toUpperCase() + m.author.role.slice(1)];
    if (roleLabel) {
      var badge = document.createElement("span");
      badge.className = "badge badge-" + m.author.role;
      badge.textContent = roleLabel;
      meta.append(" ", badge);
    }
    var time = document.createElement("time");
    time.textContent = m.time;
    meta.append(" ", time);
    if (m.held) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = text("Held");
      meta.append(" ", tag);
    }
    var body = document.createElement("p");
    body.className = "cafe-body";
    body.textContent = m.body;
    li.append(meta, body);
    var mine = m.author.id === me;
    if (mine || keeps) {
      var actions = document.createElement("div");
      actions.className = "cafe-actions";
      var base = "/cafe/" + roomId;
      if (keeps && m.held) {
        actions.append(actionForm(base + "/messages/" + m.id + "/approve", text("Approve")));
      }
      actions.append(actionForm(base + "/messages/" + m.id + "/remove", text("Remove")));
      if (keeps && !mine && m.author.role !== "moderator" && m.author.role !== "coordinator") {
        actions.append(actionForm(base + "/members/" + m.author.id + "/mute", text("Mute")));
      }
      li.append(actions);
    }
    return li;
  }

  // A message in its place by id: new ones at the end, an approved one where it was written.
  function show(m) {
    var follow = atBottom();
    var li = render(m);
    var old = document.getElementById("m" + m.id);
    if (old) {
      old.replaceWith(li);
    } else {
      var after = null;
      list.querySelectorAll("li.cafe-message").forEach(function (item) {
        if (after === null && Number(item.dataset.id) > m.id) {
          after = item;
        }
      });
      list.insertBefore(li, after);
    }
    var empty = document.getElementById("cafe-empty");
    if (empty) {
      empty.remove();
    }
    if (follow) {
      li.scrollIntoView({ block: "end" });
    }
  }

  function remove(id) {
    var old = document.getElementById("m" + id);
    if (old) {
      old.remove();
    }
  }

  function showPresence(p) {
    if (!presence) {
      return;
    }
    presence.replaceChildren();
    p.names.forEach(function (name) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = name;
      presence.append(tag, " ");
    });
    var count = document.createElement("span");
    count.className = "hint";
    count.textContent = text("Present").replace("%{count}", String(p.count));
    presence.append(count);
  }

  function showState(s) {
    keeps = s.keeps;
    say(statusLine, s.notice);
    if (form) {
      form.hidden = !(s.keeps || (s.open && !s.paused && !s.muted));
    }
    var pause = document.getElementById("cafe-pause");
    if (pause) {
      pause.action = "/cafe/" + roomId + (s.paused ? "/resume" : "/pause");
      var button = pause.querySelector("button");
      if (button) {
        button.textContent = s.paused ? text("Resume") : text("Pause");
      }
    }
  }

  function received(event) {
    var frame;
    try {
      frame = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (typeof frame.seq === "number" && frame.type !== "ack" && frame.seq > lastSeq) {
      lastSeq = frame.seq;
    }
    switch (frame.type) {
      case "hello":
        me = frame.me;
        attempt = 0;
        if (frame.reset) {
          list.querySelectorAll("li.cafe-message").forEach(function (li) {
            li.remove();
          });
        }
        lastSeq = frame.seq;
        say(liveLine, text("Live"));
        break;
      case "message":
        show(frame);
        break;
      case "removed":
        remove(frame.id);
        break;
      case "presence":
        showPresence(frame);
        break;
      case "state":
        showState(frame);
        break;
      case "ack":
        delete pending[frame.nonce];
        say(notice, frame.notice);
        break;
      case "refused":
        if (pending[frame.nonce] !== undefined && box && !box.value) {
          box.value = pending[frame.nonce];
        }
        delete pending[frame.nonce];
        say(notice, frame.messages.join(" "));
        break;
    }
  }

  function retry(quick) {
    if (stopped || retryTimer) {
      return;
    }
    // Doubling up to half a minute, each wait between half and all of it, so that a room full
    // of phones does not reconnect at the same instant.
    var ceiling = quick ? 2000 : Math.min(30000, 1000 * Math.pow(2, attempt));
    var wait = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt += 1;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      connect();
    }, wait);
  }

  function connect() {
    if (stopped) {
      return;
    }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    say(liveLine, text("Connecting"));
    socket = new WebSocket(scheme + location.host + "/cafe/" + roomId + "/live?since=" + lastSeq);
    socket.addEventListener("message", received);
    socket.addEventListener("close", function (event) {
      socket = null;
      if (event.code === 4401 || event.code === 4403) {
        stopped = true;
        say(liveLine, text("Reload"));
        if (form) {
          form.hidden = true;
        }
        return;
      }
      say(liveLine, text("Offline"));
      retry(event.code === 1001);
    });
  }

  if (form && box) {
    form.addEventListener("submit", function (event) {
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        return; // the form posts as it would without the script
      }
      event.preventDefault();
      var body = box.value;
      if (!body.trim()) {
        return;
      }
      nonceCounter += 1;
      var nonce = String(Date.now()) + "-" + nonceCounter;
      pending[nonce] = body;
      socket.send(JSON.stringify({ type: "send", body: body, nonce: nonce }));
      box.value = "";
      say(notice, "");
      box.focus();
    });
    box.addEventListener("keydown", function (event) {
      // Ctrl+Enter or ⌘+Enter sends; Enter alone is a new line, as in the forums.
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  // The facilitator's and the author's buttons act in place; the change arrives live.
  room.addEventListener("submit", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLFormElement) || !("live" in target.dataset)) {
      return;
    }
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    event.preventDefault();
    fetch(target.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(target)),
      credentials: "same-origin",
      redirect: "manual"
    }).catch(function () {
      target.submit();
    });
  });

  window.addEventListener("online", function () {
    if (!socket && !stopped) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
      attempt = 0;
      connect();
    }
  });

  connect();
})();
