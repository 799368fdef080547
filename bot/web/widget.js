/* Website chat widget. Embed with one tag:
 *   <script src="https://your-assistant/webhooks/web/static/widget.js"
 *           data-server-url="https://your-assistant" data-title="Ask us about massage"
 *           data-color="#1f5f5b" data-greeting="Hi! How can I help?"></script>
 * The conversation survives a reload in the same tab (sessionStorage) and can be restarted. */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var scriptBase = script ? script.src.replace(/[^/]*$/, "") : "";
  var config = Object.assign({
    serverUrl: data.serverUrl || (script ? new URL(script.src).origin : ""),
    title: data.title || "Massage assistant",
    color: data.color || "#1f5f5b",
    greeting: data.greeting || "Hi! Tell me how you feel or what you'd like to know about massage.",
  }, window.MassageChatConfig || {});
  var endpoint = config.serverUrl.replace(/\/$/, "") + "/webhooks/web/webhook";
  var storageKey = "massage-chat:" + config.serverUrl;

  function start() {
    var core = window.MassageChatCore;
    var state = load() || { sender: core.newSenderId(), messages: [], open: false };

    function load() {
      try { return JSON.parse(window.sessionStorage.getItem(storageKey)); } catch (e) { return null; }
    }
    function save() {
      try { window.sessionStorage.setItem(storageKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
    }

    var style = document.createElement("style");
    style.textContent = [
      ".mc-root{--mc-color:" + config.color + ";font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1b1b}",
      ".mc-root *{box-sizing:border-box}",
      ".mc-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;background:var(--mc-color);color:#fff;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);min-height:48px}",
      ".mc-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(380px,calc(100vw - 16px));height:min(600px,calc(100vh - 100px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
      ".mc-panel[hidden]{display:none}",
      ".mc-header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--mc-color);color:#fff}",
      ".mc-header h2{flex:1;margin:0;font-size:1.05em}",
      ".mc-header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.7);border-radius:8px;padding:6px 10px;font:inherit;font-size:.85em;cursor:pointer;min-height:36px}",
      ".mc-menu{position:absolute;right:12px;top:56px;z-index:1;background:#fff;border:1px solid #d5d9d9;border-radius:8px;box-shadow:0 4px 14px rgba(0,0,0,.2);padding:4px}",
      ".mc-menu[hidden]{display:none}",
      ".mc-menu button{display:block;width:100%;text-align:left;background:#fff;border:0;border-radius:6px;padding:10px 12px;font:inherit;cursor:pointer;min-height:44px;color:#1b1b1b}",
      ".mc-menu button:hover{background:#f0f3f3}",
      ".mc-log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f7}",
      ".mc-msg{max-width:88%;margin:6px 0;padding:8px 12px;border-radius:12px;word-wrap:break-word;overflow-wrap:anywhere}",
      ".mc-msg p{margin:0 0 6px}.mc-msg p:last-child{margin:0}.mc-msg ul,.mc-msg ol{margin:4px 0;padding-left:20px}",
      ".mc-bot{background:#fff;border:1px solid #d5d9d9}",
      ".mc-user{margin-left:auto;background:var(--mc-color);color:#fff}",
      ".mc-msg a{color:#0b4f8a}.mc-user a{color:#fff}",
      ".mc-replies{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
      ".mc-replies button{border:1px solid var(--mc-color);color:var(--mc-color);background:#fff;border-radius:16px;padding:6px 12px;font:inherit;font-size:.9em;cursor:pointer;min-height:36px}",
      ".mc-replies button:disabled{opacity:.55;cursor:default}",
      ".mc-typing{font-style:italic;color:#4a4a4a;padding:0 12px 6px;background:#f6f7f7}",
      ".mc-error{background:#fdecea;border:1px solid #b3261e;color:#5f1410}",
      ".mc-error button{margin-top:6px;border:1px solid #b3261e;background:#fff;color:#5f1410;border-radius:8px;padding:6px 10px;font:inherit;cursor:pointer}",
      ".mc-form{display:flex;gap:6px;padding:10px;border-top:1px solid #d5d9d9;background:#fff}",
      ".mc-form input{flex:1;min-width:0;padding:10px;border:1px solid #6b7272;border-radius:8px;font:inherit}",
      ".mc-form button{border:0;border-radius:8px;padding:0 16px;background:var(--mc-color);color:#fff;font:inherit;font-weight:600;cursor:pointer;min-height:44px}",
      ".mc-root button:focus-visible,.mc-root input:focus-visible,.mc-root a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
      ".mc-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
      "@media (max-width:480px){.mc-panel{right:0;bottom:0;width:100vw;height:100vh;border-radius:0}.mc-launcher{right:12px;bottom:12px}.mc-open .mc-launcher{display:none}}",
    ].join("\n");
    document.head.appendChild(style);

    var root = document.createElement("div");
    root.className = "mc-root";
    var launcher = button("mc-launcher", "Chat with us", toggle);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "mc-panel");

    var panel = document.createElement("section");
    panel.className = "mc-panel";
    panel.id = "mc-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", config.title);
    panel.hidden = true;

    var header = document.createElement("div");
    header.className = "mc-header";
    var heading = document.createElement("h2");
    heading.textContent = config.title;
    header.appendChild(heading);
    header.appendChild(button("", "Start over", restart));
    var menuButton = button("", "⋮", toggleMenu);
    menuButton.setAttribute("aria-label", "More options");
    menuButton.setAttribute("aria-haspopup", "menu");
    menuButton.setAttribute("aria-expanded", "false");
    menuButton.setAttribute("aria-controls", "mc-menu");
    header.appendChild(menuButton);
    var menu = document.createElement("div");
    menu.className = "mc-menu";
    menu.id = "mc-menu";
    menu.setAttribute("role", "menu");
    menu.hidden = true;
    var forgetItem = button("", "Delete my conversation", function () {
      toggleMenu();
      say("Delete my conversation", "/delete_conversation");
    });
    forgetItem.setAttribute("role", "menuitem");
    menu.appendChild(forgetItem);
    var close = button("", "Close", toggle);
    close.setAttribute("aria-label", "Close chat");
    header.appendChild(close);

    var log = document.createElement("div");
    log.className = "mc-log";
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", "Conversation");

    var typing = document.createElement("div");
    typing.className = "mc-typing";
    typing.textContent = "The assistant is typing…";
    typing.hidden = true;

    var form = document.createElement("form");
    form.className = "mc-form";
    var label = document.createElement("label");
    label.className = "mc-sr";
    label.htmlFor = "mc-input";
    label.textContent = "Your message";
    var input = document.createElement("input");
    input.id = "mc-input";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = 1000;
    input.placeholder = "Type your message…";
    var sendButton = document.createElement("button");
    sendButton.type = "submit";
    sendButton.textContent = "Send";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendButton);
    window.MassageChatCore.bindTextForm(form, input, function (text) { say(text, text); });

    panel.appendChild(header);
    panel.appendChild(menu);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    panel.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      if (!menu.hidden) { toggleMenu(); menuButton.focus(); } else { toggle(); }
    });

    function toggleMenu() {
      menu.hidden = !menu.hidden;
      menuButton.setAttribute("aria-expanded", String(!menu.hidden));
      if (!menu.hidden) forgetItem.focus();
    }

    function button(className, text, onClick) {
      var element = document.createElement("button");
      element.type = "button";
      if (className) element.className = className;
      element.textContent = text;
      element.addEventListener("click", onClick);
      return element;
    }

    function toggle() {
      state.open = panel.hidden;
      panel.hidden = !state.open;
      root.classList.toggle("mc-open", state.open);
      launcher.setAttribute("aria-expanded", String(state.open));
      save();
      if (state.open) {
        if (!state.messages.length) addMessage({ from: "bot", text: config.greeting });
        input.focus();
      } else {
        launcher.focus();
      }
    }

    function addMessage(message, skipSave) {
      var element = document.createElement("div");
      element.className = "mc-msg " + (message.from === "user" ? "mc-user" : "mc-bot");
      var who = document.createElement("span");
      who.className = "mc-sr";
      who.textContent = message.from === "user" ? "You said: " : "Assistant: ";
      element.appendChild(who);
      element.appendChild(message.from === "user" ? window.MassageChatCore.renderPlain(message.text)
                                                   : window.MassageChatCore.renderRich(message.text));
      log.appendChild(element);
      if (message.buttons && message.buttons.length) {
        log.appendChild(window.MassageChatCore.quickReplies(message.buttons, "mc-replies", function (option) {
          message.used = true;
          save();
          say(option.title, option.payload);
        }, message.used));
      }
      if (!skipSave) {
        state.messages.push(message);
        save();
      }
      log.scrollTop = log.scrollHeight;
    }

    function showError(shown, payload, messageId) {
      var element = document.createElement("div");
      element.className = "mc-msg mc-bot mc-error";
      element.setAttribute("role", "alert");
      var text = document.createElement("p");
      text.textContent = "Sorry, I can't reach the assistant right now. Please check your connection and try again.";
      element.appendChild(text);
      element.appendChild(button("", "Try again", function () {
        element.remove();
        deliver(payload, messageId);
      }));
      log.appendChild(element);
      log.scrollTop = log.scrollHeight;
    }

    function say(shown, payload) {
      addMessage({ from: "user", text: shown });
      deliver(payload);
    }

    function deliver(payload, messageId) {
      var id = messageId || window.MassageChatCore.newMessageId();
      typing.hidden = false;
      window.MassageChatCore.send(endpoint, state.sender, payload, id).then(function (replies) {
        typing.hidden = true;
        if (window.MassageChatCore.conversationDeleted(replies)) {
          // Deleted on the server: forget it here too and go on as a new conversation.
          restart(replies.filter(function (reply) { return reply.text; }).map(function (reply) { return reply.text; }));
          return;
        }
        replies.forEach(function (reply) {
          if (reply.text || (reply.buttons && reply.buttons.length)) {
            addMessage({ from: "bot", text: reply.text || "", buttons: reply.buttons || [] });
          }
        });
      }, function () {
        typing.hidden = true;
        showError(null, payload, id);
      });
    }

    function restart(notices) {
      state = { sender: window.MassageChatCore.newSenderId(), messages: [], open: true };
      while (log.firstChild) log.removeChild(log.firstChild);
      save();
      (Array.isArray(notices) && notices.length ? notices : [config.greeting]).forEach(function (text) {
        addMessage({ from: "bot", text: text });
      });
      input.focus();
    }

    state.messages.forEach(function (message) { addMessage(message, true); });
    if (state.open) {
      panel.hidden = false;
      root.classList.add("mc-open");
      launcher.setAttribute("aria-expanded", "true");
    }
  }

  function ready(callback) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", callback);
    else callback();
  }

  if (window.MassageChatCore) {
    ready(start);
  } else {
    var core = document.createElement("script");
    core.src = scriptBase + "chat-core.js";
    core.onload = function () { ready(start); };
    document.head.appendChild(core);
  }
})();
