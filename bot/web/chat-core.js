/* Shared by the website widget and the reception kiosk: talking to the assistant and rendering
 * its replies. Everything is built with DOM nodes and textContent, never innerHTML, so nothing a
 * user or the assistant sends is ever interpreted as HTML. */
(function () {
  "use strict";

  function newSenderId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function safeLink(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  /* Light markdown from the assistant's own answers: **bold**, links, "- " and "1. " lists. */
  function appendInline(parent, text) {
    var pattern = /(\*\*[^*]+\*\*|https?:\/\/[^\s<>"')]+)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var token = match[0];
      if (token.indexOf("**") === 0) {
        var strong = document.createElement("strong");
        strong.textContent = token.slice(2, -2);
        parent.appendChild(strong);
      } else {
        var href = safeLink(token.replace(/[.,;:!?]+$/, ""));
        if (href) {
          var link = document.createElement("a");
          link.href = href;
          link.textContent = token;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          parent.appendChild(link);
        } else {
          parent.appendChild(document.createTextNode(token));
        }
      }
      last = match.index + token.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderRich(text) {
    var fragment = document.createDocumentFragment();
    var list = null;
    var listType = null;
    String(text || "").split("\n").forEach(function (line) {
      var bullet = /^\s*[-*]\s+(.*)$/.exec(line);
      var numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      var item = bullet || numbered;
      if (item) {
        var type = bullet ? "ul" : "ol";
        if (!list || listType !== type) {
          list = document.createElement(type);
          listType = type;
          fragment.appendChild(list);
        }
        var li = document.createElement("li");
        appendInline(li, item[1]);
        list.appendChild(li);
        return;
      }
      list = null;
      if (!line.trim()) return;
      var paragraph = document.createElement("p");
      appendInline(paragraph, line);
      fragment.appendChild(paragraph);
    });
    return fragment;
  }

  function renderPlain(text) {
    var paragraph = document.createElement("p");
    paragraph.textContent = String(text || "");
    return paragraph;
  }

  /* Buttons from the assistant as quick replies; picking one disables the set. */
  function quickReplies(buttons, className, onPick, used) {
    var container = document.createElement("div");
    container.className = className;
    buttons.forEach(function (option) {
      var element = document.createElement("button");
      element.type = "button";
      element.textContent = option.title;
      element.disabled = !!used;
      element.addEventListener("click", function () {
        Array.prototype.forEach.call(container.querySelectorAll("button"), function (b) { b.disabled = true; });
        onPick(option);
      });
      container.appendChild(element);
    });
    return container;
  }

  /* The text box: send what was typed (trimmed, never empty) and clear it. */
  function bindTextForm(form, input, onText) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      onText(text);
    });
  }

  /* POST a message; resolves to the assistant's replies, rejects when the server can't be reached.
   * A refusal with a reason (too long, too many messages: 4xx with {"message"}) is shown as the
   * assistant's reply. */
  /* One id per message, sent again with it on "Try again": the server answers a message it
     already handled with the same replies instead of handling it twice. */
  function newMessageId() {
    return "m-" + newSenderId();
  }

  function send(endpoint, sender, message, messageId, timeoutMs) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs || 20000) : null;
    return fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message, message_id: messageId || newMessageId() }),
      signal: controller ? controller.signal : undefined,
    }).then(function (response) {
      if (timer) clearTimeout(timer);
      if (response.ok) return response.json();
      if (response.status >= 400 && response.status < 500) {
        return response.json().then(function (body) {
          if (body && typeof body.message === "string") return [{ text: body.message }];
          throw new Error("HTTP " + response.status);
        });
      }
      throw new Error("HTTP " + response.status);
    }, function (error) {
      if (timer) clearTimeout(timer);
      throw error;
    });
  }

  /* Whether the replies say the conversation was deleted on the server ("forget me"). */
  function conversationDeleted(replies) {
    return (replies || []).some(function (reply) { return reply.custom && reply.custom.conversation_deleted; });
  }

  /* Ask the server to delete a conversation now (the kiosk's reset); fire and forget. */
  function forget(endpoint, sender) {
    try {
      fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: sender }),
        keepalive: true,
      }).catch(function () { /* retention deletes it later anyway */ });
    } catch (e) { /* old browser */ }
  }

  window.MassageChatCore = {
    conversationDeleted: conversationDeleted,
    forget: forget,
    newSenderId: newSenderId,
    newMessageId: newMessageId,
    renderRich: renderRich,
    renderPlain: renderPlain,
    quickReplies: quickReplies,
    bindTextForm: bindTextForm,
    send: send,
  };
})();
