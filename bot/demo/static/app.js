// The demo page: pick a person, chat as them. Every text from the bot or a person is put into the
// page as DOM text nodes; the bot's HTML goes through `richText`, which keeps only Telegram's tags.
"use strict";

const ROLE_ORDER = ["resident", "volunteer", "team_leader", "building_leader", "coordinator", "admin"];
// Telegram's parse_mode=HTML tags and what each becomes here (tg-spoiler: a span of that class).
const ALLOWED_TAGS = { B: "b", STRONG: "b", I: "i", EM: "i", U: "u", INS: "u", S: "s", STRIKE: "s", DEL: "s",
  CODE: "code", PRE: "pre", A: "a", "TG-SPOILER": "span", BLOCKQUOTE: "blockquote", SPAN: "span" };
const SAFE_LINK = /^(https?:|tg:)/i;
// A team card's status mark: the status line's emoji says where the request stands.
const STATES = [["done", /✔️|⭐|😊|🙂|😞/u], ["onway", /🚶/u], ["accepted", /✅/u]];

const state = { district: null, language: "zh", labels: {}, person: null, chat: null, seq: 0, poll: null };
const $ = (id) => document.getElementById(id);

function t(key) { return state.labels[key] || key; }

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

// Telegram HTML → DOM nodes: allowed tags rebuilt, anything else reduced to its text.
function richText(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const fragment = document.createDocumentFragment();
  copyChildren(parsed.body, fragment);
  return fragment;
}

function copyChildren(source, target) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) { target.append(document.createTextNode(node.nodeValue)); continue; }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = ALLOWED_TAGS[node.tagName];
    const isSpoiler = node.tagName === "TG-SPOILER" || (node.tagName === "SPAN" && node.classList.contains("tg-spoiler"));
    if (!tag || (tag === "span" && !isSpoiler)) { copyChildren(node, target); continue; }
    const copy = document.createElement(tag);
    if (isSpoiler) { copy.className = "tg-spoiler"; copy.addEventListener("click", () => copy.classList.add("shown")); }
    if (tag === "a") {
      const href = node.getAttribute("href") || "";
      if (SAFE_LINK.test(href)) { copy.href = href; copy.target = "_blank"; copy.rel = "noopener noreferrer"; }
    }
    copyChildren(node, copy);
    target.append(copy);
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function act(action) {
  return api("/api/act", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user_id: state.person.id, ...action }) });
}

function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 5000 : 2500);
}

function personName(id) {
  const found = state.district.people.find((p) => p.id === id);
  return found ? found.name : String(id);
}

function chatTitle(chatId) {
  if (chatId === state.person.id) return t("private");
  const group = state.district.groups.find((g) => g.id === chatId);
  return group ? group.title : String(chatId);
}

// -- the people and their chats -------------------------------------------------------------------
function renderPeople() {
  document.title = t("title");
  $("title").textContent = t("title");
  $("pick").textContent = t("pick");
  $("language").textContent = t("language");
  $("send").textContent = t("send");
  $("text").placeholder = t("type");
  $("voice").title = t("voice");
  $("file-label").title = t("file");
  const empty = $("empty");
  if (empty) empty.textContent = t("empty");
  const roles = $("roles");
  roles.replaceChildren();
  for (const role of ROLE_ORDER) {
    const people = state.district.people.filter((p) => p.role === role);
    if (!people.length) continue;
    roles.append(el("h3", { text: t(role) }));
    for (const person of people) {
      const button = el("button", { type: "button", text: person.name, "data-person": String(person.id),
        class: "person" + (state.person && state.person.id === person.id ? " active" : "") });
      button.addEventListener("click", () => pickPerson(person));
      roles.append(button);
    }
  }
  if (state.person) renderChatList();
}

function pickPerson(person) {
  state.person = person;
  renderPeople();
  openChat(person.id);
}

function renderChatList() {
  $("person-name").textContent = state.person.name;
  const list = $("chat-list");
  list.replaceChildren();
  for (const chatId of [state.person.id, ...state.person.chats]) {
    const button = el("button", { type: "button", text: chatTitle(chatId), "data-chat": String(chatId),
      class: "chat-item" + (state.chat === chatId ? " active" : "") });
    button.addEventListener("click", () => openChat(chatId));
    list.append(el("li", {}, [button]));
  }
}

// -- one chat -------------------------------------------------------------------------------------
async function openChat(chatId) {
  if (state.poll) state.poll.abort();
  state.chat = chatId;
  renderChatList();
  $("chat-title").textContent = chatTitle(chatId);
  const view = await api(`/api/chats/${chatId}`);
  if (state.chat !== chatId) return;
  const box = $("messages");
  box.replaceChildren();
  for (const message of view.messages) if (!message.deleted) box.append(renderMessage(message));
  renderKeyboard(view);
  box.scrollTop = box.scrollHeight;
  state.seq = view.last_seq;
  poll(chatId);
}

async function poll(chatId) {
  const controller = new AbortController();
  state.poll = controller;
  while (state.chat === chatId && !controller.signal.aborted) {
    try {
      const body = await api(`/api/chats/${chatId}/events?after=${state.seq}`, { signal: controller.signal });
      if (state.chat !== chatId) return;
      for (const event of body.events) upsert(event.message);
      state.seq = body.last_seq;
      if (body.events.length && chatId === state.person.id) renderKeyboard(await api(`/api/chats/${chatId}`));
    } catch (error) {
      if (controller.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function upsert(message) {
  const box = $("messages");
  const old = box.querySelector(`[data-message-id="${message.message_id}"]`);
  if (message.deleted) { if (old) old.remove(); return; }
  const fresh = renderMessage(message);
  if (old) old.replaceWith(fresh);
  else { box.append(fresh); box.scrollTop = box.scrollHeight; }
}

function stateOf(message) {
  if (state.chat === state.person.id || !message.from_bot) return null;
  const text = message.text || "";
  for (const [name, pattern] of STATES) if (pattern.test(text)) return name;
  return message.buttons.length ? "open" : null;
}

function renderMessage(message) {
  const mine = !message.from_bot && message.sender_id === state.person.id;
  const kind = message.kind;
  const node = el("div", { class: "msg" + (mine ? " mine" : "") + (kind === "service" ? " service" : ""),
    "data-message-id": String(message.message_id) });
  if (kind === "service") { node.textContent = serviceText(message); return node; }
  const mark = stateOf(message);
  if (mark) { node.classList.add(`state-${mark}`); node.setAttribute("data-state", mark); node.append(el("span", { class: "mark" })); }
  if (!mine && state.chat !== state.person.id) {
    node.append(el("div", { class: "sender", text: message.from_bot ? "Volunteer Loop" : personName(message.sender_id) }));
  }
  node.append(renderMedia(message));
  const body = el("div", { class: "body" });
  if (message.html) body.append(richText(message.html));
  else if (message.text) body.textContent = message.text;
  node.append(body);
  if (message.buttons.length) node.append(renderButtons(message));
  const meta = el("div", { class: "meta" });
  if (message.protect_content) {
    node.classList.add("protected");
    meta.append(el("span", { class: "lock", title: t("protected"), text: "🔒 " }));
  }
  if (message.edit_date) meta.append(el("span", { class: "edited", text: t("edited") + " · " }));
  meta.append(document.createTextNode(new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
  node.append(meta);
  return node;
}

function serviceText(message) {
  const extra = message.extra || {};
  if (extra.new_chat_members) return "+ " + extra.new_chat_members.map((m) => m.first_name).join(", ");
  if (extra.left_chat_member) return "− " + extra.left_chat_member.first_name;
  return "·";
}

function fileUrl(fileId) { return `/api/files/${encodeURIComponent(fileId)}`; }

function renderMedia(message) {
  const extra = message.extra || {};
  const box = el("div", { class: "media" });
  if (Array.isArray(extra.photo) && extra.photo.length) {
    box.append(el("img", { src: fileUrl(extra.photo[extra.photo.length - 1].file_id), alt: "photo" }));
  }
  if (extra.document) {
    box.append(el("a", { href: fileUrl(extra.document.file_id), download: extra.document.file_name || "file",
      text: "📄 " + (extra.document.file_name || "file") }));
  }
  if (extra.voice) box.append(el("audio", { controls: true, src: fileUrl(extra.voice.file_id) }));
  if (extra.contact) box.append(el("div", { text: `📇 ${extra.contact.first_name} ${extra.contact.phone_number}` }));
  if (extra.location) box.append(el("div", { text: `📍 ${extra.location.latitude}, ${extra.location.longitude}` }));
  return box;
}

function renderButtons(message) {
  const box = el("div", { class: "buttons" });
  for (const row of message.buttons) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      if (button.url) {
        const link = el("a", { text: button.text, target: "_blank", rel: "noopener noreferrer" });
        if (SAFE_LINK.test(button.url)) link.href = button.url;
        line.append(link);
        continue;
      }
      const tap = el("button", { type: "button", text: button.text });
      tap.addEventListener("click", () => tapButton(message, button.text));
      line.append(tap);
    }
    box.append(line);
  }
  return box;
}

async function tapButton(message, text) {
  try {
    const result = (await act({ type: "tap", chat_id: state.chat, message_id: message.message_id, text })).results[0];
    if (!result.callback_query_id) return;
    const answer = await api(`/api/callbacks/${result.callback_query_id}`);
    if (answer.answered && answer.text) toast(answer.text, answer.show_alert);
  } catch (error) { toast(String(error.message || error), true); }
}

function renderKeyboard(view) {
  const box = $("keyboard");
  box.replaceChildren();
  const isPrivate = state.chat === state.person.id;
  if (isPrivate && !view.messages.length) {
    const start = el("button", { type: "button", id: "start", text: t("start") });
    start.addEventListener("click", () => act({ type: "start" }).catch((e) => toast(e.message, true)));
    box.append(el("div", { class: "row" }, [start]));
    return;
  }
  if (!isPrivate || !view.reply_keyboard) return;
  for (const row of view.reply_keyboard) {
    const line = el("div", { class: "row" });
    for (const label of row) {
      const press = el("button", { type: "button", text: label });
      press.addEventListener("click", () => act({ type: "press", text: label }).catch((e) => toast(e.message, true)));
      line.append(press);
    }
    box.append(line);
  }
}

async function sendText(event) {
  event.preventDefault();
  const input = $("text");
  const text = input.value.trim();
  if (!text || !state.person) return;
  input.value = "";
  try { await act({ type: "send_text", chat_id: state.chat, text }); } catch (error) { toast(error.message, true); }
}

async function upload(kind, blob, name) {
  const form = new FormData();
  form.append("user_id", String(state.person.id));
  form.append("chat_id", String(state.chat));
  form.append("kind", kind);
  form.append("file", blob, name);
  try { await api("/api/upload", { method: "POST", body: form }); } catch (error) { toast(error.message, true); }
}

function sendVoice() {
  if (!state.person) return;
  // A short voice note: an Ogg header and silence, as the sandbox only passes the bytes on.
  upload("voice", new Blob(["OggS", new Uint8Array(256)], { type: "audio/ogg" }), "voice.ogg");
}

function sendFile() {
  const file = $("file").files[0];
  if (!file || !state.person) return;
  upload(file.type.startsWith("image/") ? "photo" : "document", file, file.name);
  $("file").value = "";
}

async function main() {
  state.district = await api("/api/district");
  const params = new URLSearchParams(location.search);
  state.language = params.get("lang") || localStorage.getItem("vloop-demo-language") || state.district.language;
  if (!state.district.labels[state.language]) state.language = state.district.language;
  state.labels = state.district.labels[state.language];
  document.documentElement.lang = state.language === "zh" ? "zh-Hans" : "en";
  renderPeople();
  $("language").addEventListener("click", () => {
    state.language = state.language === "zh" ? "en" : "zh";
    localStorage.setItem("vloop-demo-language", state.language);
    state.labels = state.district.labels[state.language];
    document.documentElement.lang = state.language === "zh" ? "zh-Hans" : "en";
    renderPeople();
    if (state.chat !== null) $("chat-title").textContent = chatTitle(state.chat);
  });
  $("composer").addEventListener("submit", sendText);
  $("voice").addEventListener("click", sendVoice);
  $("file").addEventListener("change", sendFile);
}

main();
