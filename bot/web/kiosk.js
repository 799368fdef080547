/* Reception kiosk: touch-first, shared device. Nothing is kept in the browser's storage; after a
 * period without touches it warns with a countdown, then clears the screen, deletes the
 * conversation on the server and starts a new one ("Start again" does the same). ?idle=SECONDS (default 90) and ?warn=SECONDS (default 15) change the timing. */
(function () {
  "use strict";
  var core = window.MassageChatCore;
  var params = new URLSearchParams(window.location.search);
  var idleSeconds = Math.max(1, Number(params.get("idle")) || 90);
  var warnSeconds = Math.max(1, Number(params.get("warn")) || 15);
  var endpoint = "webhook";
  var TOPICS = [
    ["Which massage suits me?", "/describe_problem"],
    ["What is therapeutic massage?", "/ask_what_is"],
    ["Benefits", "/ask_benefits"],
    ["Techniques", "/ask_techniques"],
    ["What happens in a session?", "/ask_session"],
    ["How often should I come?", "/ask_frequency"],
    ["How long is a session?", "/ask_session_length"],
    ["When is massage not safe?", "/ask_contraindications"],
    ["Massage in pregnancy", "/ask_pregnancy"],
    ["Talk to our team", "/request_human"],
  ];

  var sender = core.newSenderId();
  var started = false;
  var start = document.getElementById("k-start");
  var chat = document.getElementById("k-chat");
  var log = document.getElementById("k-log");
  var typing = document.getElementById("k-typing");
  var form = document.getElementById("k-form");
  var input = document.getElementById("k-input");
  var idle = document.getElementById("k-idle");
  var countdown = document.getElementById("k-countdown");
  var idleTimer = null;
  var countdownTimer = null;

  function button(text, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  TOPICS.forEach(function (topic) {
    document.getElementById("k-topics").appendChild(button(topic[0], function () { say(topic[0], topic[1]); }));
  });

  function showChat() {
    start.hidden = true;
    chat.hidden = false;
  }

  function add(from, text, buttons) {
    var element = document.createElement("div");
    element.className = "k-msg " + (from === "user" ? "k-user" : "k-bot");
    element.appendChild(from === "user" ? core.renderPlain(text) : core.renderRich(text));
    log.appendChild(element);
    if (buttons && buttons.length) {
      log.appendChild(core.quickReplies(buttons, "k-replies", function (option) { say(option.title, option.payload); }));
    }
    element.scrollIntoView({ block: "end" });
  }

  function say(shown, payload, messageId) {
    var id = messageId || core.newMessageId();
    showChat();
    add("user", shown);
    typing.hidden = false;
    var current = sender;
    started = true;
    core.send(endpoint, sender, payload, id).then(function (replies) {
      if (current !== sender) return;
      typing.hidden = true;
      if (core.conversationDeleted(replies)) { reset(); return; }
      replies.forEach(function (reply) { add("bot", reply.text || "", reply.buttons); });
    }, function () {
      if (current !== sender) return;
      typing.hidden = true;
      var element = document.createElement("div");
      element.className = "k-msg k-bot k-error";
      element.setAttribute("role", "alert");
      element.appendChild(core.renderPlain("Sorry, the assistant can't be reached right now. Please ask at the desk."));
      element.appendChild(button("Try again", function () { element.remove(); say(shown, payload, id); }));
      log.appendChild(element);
    });
  }

  core.bindTextForm(form, input, function (text) { say(text, text); });

  function reset() {
    clearInterval(countdownTimer);
    idle.hidden = true;
    // The next visitor must not inherit this one's health details: delete them on the server too.
    if (started) core.forget("forget", sender);
    started = false;
    sender = core.newSenderId();
    while (log.firstChild) log.removeChild(log.firstChild);
    input.value = "";
    typing.hidden = true;
    try { window.sessionStorage.clear(); window.localStorage.clear(); } catch (e) { /* storage disabled */ }
    chat.hidden = true;
    start.hidden = false;
    document.body.dataset.conversation = sender;
    restartIdleTimer();
  }

  function warn() {
    var remaining = warnSeconds;
    countdown.textContent = String(remaining);
    idle.hidden = false;
    document.getElementById("k-stay").focus();
    countdownTimer = setInterval(function () {
      remaining -= 1;
      countdown.textContent = String(Math.max(0, remaining));
      if (remaining <= 0) reset();
    }, 1000);
  }

  function restartIdleTimer() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(warn, idleSeconds * 1000);
  }

  function activity() {
    if (!idle.hidden) return;
    restartIdleTimer();
  }

  document.getElementById("k-stay").addEventListener("click", function () {
    clearInterval(countdownTimer);
    idle.hidden = true;
    restartIdleTimer();
  });
  document.getElementById("k-home").addEventListener("click", reset);
  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true });
  });
  document.body.dataset.conversation = sender;
  restartIdleTimer();
})();
