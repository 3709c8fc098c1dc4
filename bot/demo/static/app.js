// Volunteer Loop demo page: pick a person, chat as them. No framework, no build step, offline.
// Every text from the bot arrives already rebuilt as safe HTML by the server (bot/demo/page.py);
// everything else is set with textContent.
"use strict";

const WORDS = {
  zh: { title: "社区志愿服务 · 演示", send: "发送", lang: "English", as: "当前身份：", pick: "请选择一个人",
        private: "与机器人的私聊", edited: "已编辑", protected: "🔒 受保护", failed: "没有成功：",
        roles: { resident: "居民", building_leader: "楼长", volunteer: "志愿者", team_leader: "队长",
                 coordinator: "协调员", admin: "管理员" } },
  en: { title: "Community volunteer service · demo", send: "Send", lang: "中文", as: "Chatting as ", pick: "Pick a person",
        private: "Private chat with the bot", edited: "edited", protected: "🔒 protected", failed: "Did not work: ",
        roles: { resident: "Residents", building_leader: "Building leaders", volunteer: "Volunteers",
                 team_leader: "Team leaders", coordinator: "Coordinators", admin: "Admin" } },
};
const ROLE_ORDER = ["resident", "building_leader", "volunteer", "team_leader", "coordinator", "admin"];
const state = { lang: "zh", district: null, person: null, chat: null, seq: 0, poll: 0 };
const $ = (id) => document.getElementById(id);

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

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function toast(text, alert) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = !text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3000);
}

function words() { return WORDS[state.lang]; }

function renderPeople() {
  const nav = $("people");
  nav.replaceChildren();
  for (const role of ROLE_ORDER) {
    const people = state.district.people.filter((p) => p.role === role);
    if (!people.length) continue;
    nav.append(el("h3", { text: words().roles[role] }));
    for (const person of people) {
      const button = el("button", { class: "person" + (state.person && state.person.id === person.id ? " active" : ""),
                                    text: person.name, type: "button", "data-person": String(person.id) });
      button.addEventListener("click", () => choosePerson(person));
      nav.append(button);
    }
  }
}

function chatTitle(id) {
  return id === state.person.id ? words().private : state.district.groups[String(id)] || String(id);
}

function renderChats() {
  const list = $("chats");
  list.replaceChildren();
  if (!state.person) return;
  for (const id of state.person.chats) {
    const button = el("button", { class: "chatlink" + (state.chat === id ? " active" : ""), text: chatTitle(id),
                                  type: "button", "data-chat": String(id) });
    button.addEventListener("click", () => chooseChat(id));
    list.append(button);
  }
}

function choosePerson(person) {
  state.person = person;
  $("who").textContent = words().as + person.name;
  renderPeople();
  chooseChat(person.id);
}

function chooseChat(id) {
  state.chat = id;
  state.seq = 0;
  renderChats();
  $("chat-title").textContent = chatTitle(id);
  refresh();
  watch(++state.poll);
}

async function watch(poll) {
  while (poll === state.poll) {
    try {
      const changed = await api(`/api/chats/${state.chat}/changes?as=${state.person.id}&after=${state.seq}&timeout=20`);
      if (poll !== state.poll) return;
      if (changed.last_seq > state.seq) await refresh();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function refresh() {
  const chat = await api(`/api/chats/${state.chat}?as=${state.person.id}`);
  if (chat.id !== state.chat) return;
  state.seq = chat.last_seq;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...chat.messages.map(renderMessage));
  renderKeyboard(chat.keyboard);
  if (atBottom || box.dataset.chat !== String(chat.id)) box.scrollTop = box.scrollHeight;
  box.dataset.chat = String(chat.id);
}

function renderMessage(message) {
  const mine = !message.from_bot && message.sender_id === state.person.id;
  const bubble = el("div", { class: "msg" + (mine ? " mine" : "") + (message.protected ? " protected" : ""),
                             "data-message": String(message.id) });
  if (!message.from_bot && !mine) bubble.append(el("span", { class: "sender", text: message.sender }));
  for (const file of message.files) {
    if (file.kind === "photo" || file.mime.startsWith("image/")) bubble.append(el("img", { src: file.url, alt: file.name }));
    else if (file.kind === "voice" || file.kind === "audio") bubble.append(el("audio", { src: file.url, controls: true }));
    else bubble.append(el("a", { href: file.url, text: "📄 " + file.name, download: file.name }));
  }
  if (message.contact) bubble.append(el("div", { text: "📞 " + message.contact }));
  const body = el("div", { class: "body" });
  body.innerHTML = message.html;  // safe: rebuilt from Telegram's tags and escaped by the server
  bubble.append(body);
  if (message.buttons.length) {
    const rows = el("div", { class: "inline" });
    for (const row of message.buttons) {
      const line = el("div", { class: "row" });
      for (const button of row) {
        const tap = el("button", { type: "button", text: button.text });
        if (button.url) tap.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        else tap.addEventListener("click", () => tapButton(message.id, button.text));
        line.append(tap);
      }
      rows.append(line);
    }
    bubble.append(rows);
  }
  const marks = [];
  if (message.edited) marks.push(words().edited);
  if (message.protected) marks.push(words().protected);
  marks.push(new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  bubble.append(el("span", { class: "meta", text: marks.join(" · ") }));
  return bubble;
}

function renderKeyboard(keyboard) {
  const box = $("keyboard");
  box.replaceChildren();
  if (!keyboard) return;
  for (const row of keyboard) {
    const line = el("div", { class: "row" });
    for (const key of row) {
      const button = el("button", { type: "button", text: key.text });
      button.addEventListener("click", () => key.contact ? act({ type: "contact" }) : act({ type: "press", text: key.text }));
      line.append(button);
    }
    box.append(line);
  }
}

async function act(action) {
  try {
    return await api("/api/act", { method: "POST", headers: { "Content-Type": "application/json" },
                                   body: JSON.stringify({ user_id: state.person.id, chat_id: state.chat, ...action }) });
  } catch (error) {
    toast(words().failed + error.message, true);
    return null;
  }
}

async function tapButton(messageId, text) {
  const done = await act({ type: "tap", text, message_id: messageId });
  if (!done || !done.callback_query_id) return;
  const answer = await api(`/api/callbacks/${done.callback_query_id}?timeout=8`);
  if (answer.text) toast(answer.text, answer.alert);
}

async function sendFile(file) {
  const data = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  const kind = file.type.startsWith("image/") ? "photo" : "document";
  await act({ type: "media", kind, data_b64: btoa(binary), file_name: file.name, mime_type: file.type || null });
}

function applyLanguage() {
  const w = words();
  document.documentElement.lang = state.lang === "zh" ? "zh-Hans" : "en";
  $("title").textContent = w.title;
  $("send").textContent = w.send;
  $("lang").textContent = w.lang;
  $("who").textContent = state.person ? w.as + state.person.name : w.pick;
  renderPeople();
  if (state.person) renderChats(), $("chat-title").textContent = chatTitle(state.chat);
}

async function start() {
  state.district = await api("/api/district");
  state.lang = state.district.language === "en" ? "en" : "zh";
  applyLanguage();
  $("lang").addEventListener("click", () => { state.lang = state.lang === "zh" ? "en" : "zh"; applyLanguage(); });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text || !state.person) return;
    $("text").value = "";
    await act(text === "/start" && state.chat === state.person.id ? { type: "start" } : { type: "send_text", text });
  });
  $("file").addEventListener("change", async () => {
    const file = $("file").files[0];
    if (file && state.person) await sendFile(file);
    $("file").value = "";
  });
  $("voice").addEventListener("click", () => state.person && act({ type: "media", kind: "voice", data_b64: btoa("OggS-demo-voice"), duration: 4 }));
}

start();
