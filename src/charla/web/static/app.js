// The charla web client: the same protocol as the terminal clients, over a WebSocket
// (docs/protocol.md, docs/web.md). Every user-supplied string reaches the page through
// textContent or text nodes (text.js), never as HTML.

import { lang, t } from "./i18n.js";
import { fillText, markDeleted, parentLine, reactionMap, reactionsLine, toggleReaction } from "./message.js";
import { Link } from "./net.js";
import { clock, mentions, nickClass } from "./text.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const MAX_OUTBOX = 100;
const MAX_ROUTES = 200;
const GENERAL = "general";
/** A read marker waits this long, so reading a busy room costs one request a second. */
const READ_DELAY = 1000;

const state = {
  nick: null,
  password: null,
  serverPassword: null,
  /** Conversations by key: a room's name, or "@nick" for direct messages. */
  conversations: new Map(),
  active: null,
  /** The newest room message id seen: the `since` of a resume. */
  maxId: 0,
  welcomed: false,
  everWelcomed: false,
  leftGeneral: false,
  quitting: false,
  labels: 0,
  /** Which conversation a request's answers belong to, by label. */
  routes: new Map(),
  /** Messages sent and not yet seen back, by label. */
  pending: new Map(),
  /** Lines typed while disconnected. */
  outbox: [],
  /** Messages unconfirmed when the connection dropped: sent again after the replay of
   * their room unless the replay holds them. */
  resend: [],
  elementIds: 0,
  readTimer: null,
  /** The label of the `rooms` request that fetches the unread counts after a welcome. */
  roomsLabel: null,
};

const link = new Link({ onFrame, onOpen: sendHello, onDown: connectionLost });

// --- conversations ----------------------------------------------------------------------

class Conversation {
  constructor(key) {
    this.key = key;
    this.direct = key.startsWith("@");
    this.name = this.direct ? key.slice(1) : key;
    this.ids = new Set();
    this.newest = 0;
    this.oldest = null;
    this.exhausted = false;
    this.loading = false;
    /** While a resume replay is completed page by page: the `since` it goes down to. */
    this.backfillTo = null;
    this.users = [];
    this.unread = 0;
    this.alert = false;
    /** The newest id the server holds as read here (read markers), or 0. */
    this.readMark = 0;
    this.topic = "";
    /** The label of the question for the topic after a change, while it is unanswered. */
    this.topicQuery = null;
    const n = ++state.elementIds;
    this.tab = document.createElement("button");
    this.tab.type = "button";
    this.tab.id = `tab-${n}`;
    this.tab.setAttribute("role", "tab");
    this.tab.setAttribute("aria-controls", `log-${n}`);
    this.tab.setAttribute("aria-selected", "false");
    this.tab.tabIndex = -1;
    this.label = document.createElement("span");
    this.label.textContent = (this.direct ? "@" : "#") + this.name;
    this.badge = document.createElement("span");
    this.badge.className = "badge";
    this.tab.append(this.label, this.badge);
    this.tab.addEventListener("click", () => activate(this));
    this.log = document.createElement("ol");
    this.log.id = `log-${n}`;
    this.log.className = "log";
    this.log.hidden = true;
    this.log.tabIndex = 0;
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-labelledby", this.tab.id);
    this.log.addEventListener("scroll", () => {
      maybePageBack(this);
      markReadSoon();
    });
    this.top = document.createElement("li");
    this.top.className = "marker";
    this.log.append(this.top);
    $("tabs").append(this.tab);
    $("logs").append(this.log);
  }

  get atBottom() {
    const log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  remove() {
    this.tab.remove();
    this.log.remove();
  }
}

function conversation(key, { create = true } = {}) {
  let conv = state.conversations.get(key);
  if (!conv && create) {
    conv = new Conversation(key);
    state.conversations.set(key, conv);
  }
  return conv;
}

function activate(conv) {
  if (!conv) return;
  const wasBottom = state.active === conv ? conv.atBottom : true;
  for (const other of state.conversations.values()) {
    const on = other === conv;
    other.log.hidden = !on;
    other.tab.setAttribute("aria-selected", String(on));
    other.tab.tabIndex = on ? 0 : -1;
  }
  state.active = conv;
  conv.unread = 0;
  conv.alert = false;
  updateBadges();
  renderUsers();
  $("input").placeholder = conv.label.textContent;
  showTopic();
  if (wasBottom) conv.log.scrollTop = conv.log.scrollHeight;
  maybePageBack(conv);
  markReadSoon();
}

function removeConversation(conv) {
  state.conversations.delete(conv.key);
  conv.remove();
  if (state.active === conv) {
    activate(state.conversations.values().next().value ?? null);
  }
}

// --- the log ------------------------------------------------------------------------------

function messageItem(m) {
  const li = document.createElement("li");
  li.className = "msg";
  li.dataset.id = String(m.id);
  const [short, full] = clock(m.ts, lang);
  const time = document.createElement("time");
  time.dateTime = m.ts;
  time.textContent = short;
  time.title = full;
  const who = document.createElement("span");
  who.className = `nick ${nickClass(m.user)}`;
  who.textContent = m.action ? `* ${m.user}` : m.notice ? `-${m.user}-` : m.user;
  li.append(time, " ", who);
  if (m.bot) {
    const bot = document.createElement("span");
    bot.className = "bot";
    bot.textContent = t("bot");
    li.append(" ", bot);
    li.classList.add("from-bot");
  }
  const text = document.createElement("span");
  text.className = "text";
  li.append(" ", text);
  if (m.parent && typeof m.parent === "object") {
    li.prepend(parentLine(m.parent));
    li.classList.add("reply");
  }
  if (m.action) li.classList.add("action");
  if (m.notice) li.classList.add("notice");
  if (m.deleted || typeof m.text !== "string") {
    markDeleted(li);
    return li;
  }
  fillText(text, m.text, Boolean(m.edited));
  li.reactions = reactionMap(m.reactions);
  showReactions(li);
  if (sameNick(m.user, state.nick)) li.classList.add("own");
  else if (m.room != null && mentions(m.text, state.nick)) li.classList.add("mention");
  return li;
}

/** The line of a message `id` in `room`'s log, if it is shown. */
function messageLine(room, id) {
  const conv = typeof room === "string" ? conversation(room, { create: false }) : null;
  if (!conv || !Number.isInteger(id)) return null;
  return conv.log.querySelector(`li.msg[data-id="${id}"]`);
}

function showReactions(li) {
  li.querySelector(".reactions")?.remove();
  if (!li.reactions.size) return;
  li.append(
    reactionsLine(li.reactions, state.nick, (emoji) => {
      const conv = conversationOf(li);
      if (conv) request({ type: "react", id: Number(li.dataset.id), emoji }, conv.key);
    }),
  );
}

/** The conversation whose log holds `li`. */
function conversationOf(li) {
  const log = li.closest(".log");
  for (const conv of state.conversations.values()) if (conv.log === log) return conv;
  return null;
}

/** Reactions, edits and deletes are numbered with the messages: a resume asks for them too. */
function sawChange(frame) {
  if (Number.isInteger(frame.seq)) state.maxId = Math.max(state.maxId, frame.seq);
}

/** Put `m` in its place (ordered by id) unless it is already there; true if added. */
function insert(conv, m) {
  if (conv.ids.has(m.id)) return false;
  conv.ids.add(m.id);
  const item = messageItem(m);
  if (m.id > conv.newest) {
    conv.log.append(item);
    conv.newest = m.id;
  } else {
    const later = [...conv.log.querySelectorAll("li.msg")].find((li) => Number(li.dataset.id) > m.id);
    conv.log.insertBefore(item, later ?? null);
  }
  if (conv.oldest === null || m.id < conv.oldest) conv.oldest = m.id;
  if (m.room != null) state.maxId = Math.max(state.maxId, m.id);
  return true;
}

/** Add messages keeping the reader where they were: at the bottom if they were there,
 * on the same line if older messages came in above. */
function addMessages(conv, messages) {
  const bottom = conv.atBottom;
  const height = conv.log.scrollHeight;
  const added = messages.filter((m) => insert(conv, m));
  if (bottom) conv.log.scrollTop = conv.log.scrollHeight;
  else if (added.length && added[added.length - 1].id < conv.newest) {
    conv.log.scrollTop += conv.log.scrollHeight - height;
  }
  return added;
}

function systemLine(conv, text) {
  if (!conv) conv = state.active;
  if (!conv || !text) return;
  const bottom = conv.atBottom;
  const li = document.createElement("li");
  li.className = "system";
  li.textContent = text;
  conv.log.append(li);
  if (bottom) conv.log.scrollTop = conv.log.scrollHeight;
}

function setTop(conv, key) {
  conv.top.textContent = key ? t(key) : "";
}

function maybePageBack(conv) {
  if (conv !== state.active || conv.direct || conv.loading || conv.exhausted) return;
  if (conv.oldest === null || conv.backfillTo !== null || !link.open) return;
  const needed = conv.log.scrollTop < 60 || conv.log.scrollHeight <= conv.log.clientHeight;
  if (!needed) return;
  conv.loading = true;
  setTop(conv, "older");
  request({ type: "history", room: conv.name, before: conv.oldest, limit: PAGE }, conv.key);
}

// --- users --------------------------------------------------------------------------------

function renderUsers() {
  const list = $("users");
  list.replaceChildren();
  const conv = state.active;
  if (!conv) return;
  const users = conv.direct ? [state.nick, conv.name] : conv.users;
  for (const nick of users) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `nick ${nickClass(nick)}`;
    button.textContent = nick;
    button.addEventListener("click", () => {
      if (!sameNick(nick, state.nick)) activate(conversation(`@${nick}`));
      $("input").focus();
    });
    li.append(button);
    list.append(li);
  }
  $("user-count").textContent = `(${users.length})`;
}

function setUsers(conv, users) {
  conv.users = [...new Set(users)].sort((a, b) => a.localeCompare(b));
  if (conv === state.active) renderUsers();
}

// --- unread, title, notifications --------------------------------------------------------

function notice(conv, m) {
  if (sameNick(m.user, state.nick)) return;
  const seen = conv === state.active && !document.hidden;
  const direct = m.room == null;
  const mention = !direct && mentions(m.text, state.nick);
  if (!seen) {
    conv.unread += 1;
    conv.alert ||= direct || mention;
    updateBadges();
  }
  if (document.hidden && (direct || mention) && "Notification" in window && Notification.permission === "granted") {
    const title = direct ? t("direct", { user: m.user }) : t("mention", { user: m.user, room: m.room });
    try {
      new Notification(title, { body: m.text.slice(0, 200), tag: conv.key, lang });
    } catch {
      // Some mobile browsers only notify from a service worker: the title still counts.
    }
  }
}

function updateBadges() {
  let total = 0;
  for (const conv of state.conversations.values()) {
    total += conv.unread;
    conv.badge.textContent = conv.unread ? String(conv.unread) : "";
    conv.tab.classList.toggle("alert", conv.alert);
  }
  document.title = total ? `(${total}) ${t("title")}` : t("title");
}

/** Tell the server the active conversation is read, once its newest message has been in
 * view for a moment with the tab visible. */
function markReadSoon() {
  if (state.readTimer !== null) return;
  state.readTimer = setTimeout(() => {
    state.readTimer = null;
    markRead(state.active);
  }, READ_DELAY);
}

function markRead(conv) {
  if (!conv || conv !== state.active || document.hidden || !conv.atBottom || !state.welcomed) return;
  if (conv.newest <= conv.readMark) return;
  conv.readMark = conv.newest;
  const where = conv.direct ? { with: conv.name } : { room: conv.name };
  request({ type: "mark_read", ...where, id: conv.newest }, conv.key);
}

/** A `read` frame: the marker moved (here or in another session of the user). */
function readUpTo(conv, id) {
  conv.readMark = Math.max(conv.readMark, id);
  if (id >= conv.newest) {
    conv.unread = 0;
    conv.alert = false;
    updateBadges();
  }
}

/** The unread counts the server keeps from the read markers (a registered nick's last
 * visit, another session's reading) replace the page's own counts. */
function unreadFromServer(rooms) {
  for (const info of rooms) {
    const conv = info && info.joined ? conversation(info.name, { create: false }) : null;
    if (!conv || !Number.isInteger(info.unread)) continue;
    if (conv === state.active && !document.hidden) continue;
    conv.unread = info.unread;
    conv.alert = Number.isInteger(info.mentions) && info.mentions > 0;
  }
  updateBadges();
}

function setTopic(conv, text) {
  conv.topic = typeof text === "string" ? text : "";
  conv.tab.title = conv.topic;
  if (conv === state.active) showTopic();
}

function showTopic() {
  const topic = $("topic");
  topic.textContent = state.active ? state.active.topic : "";
  topic.hidden = !topic.textContent;
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.active) activate(state.active);
});

function setUpNotifications() {
  const button = $("notify");
  if (!("Notification" in window) || Notification.permission !== "default") return;
  button.hidden = false;
  button.title = t("notifyTitle");
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission === "default";
  });
}

// --- sending ------------------------------------------------------------------------------

function nextLabel() {
  state.labels += 1;
  return `w${state.labels}`;
}

/** Send a request whose answers belong to conversation `key`. */
function request(frame, key) {
  const label = nextLabel();
  state.routes.set(label, key);
  if (state.routes.size > MAX_ROUTES) state.routes.delete(state.routes.keys().next().value);
  link.send({ ...frame, label });
  return label;
}

/** The text a message will carry: `//x` sends `/x`; commands are not messages. */
function messageText(frame) {
  if (frame.type === "msg") return frame.text;
  if (frame.text.startsWith("//")) return frame.text.slice(1);
  return frame.text.startsWith("/") ? null : frame.text;
}

function sendLine(item) {
  const label = request(item.frame, item.key);
  if (messageText(item.frame) !== null) state.pending.set(label, item);
}

function submit() {
  const input = $("input");
  const text = input.value;
  const conv = state.active;
  if (!text.trim() || !conv) return;
  input.value = "";
  resizeInput();
  if (/^\/(salir|quit|exit)(\s|$)/i.test(text)) state.quitting = true;
  let frame;
  if (conv.direct && !text.startsWith("/")) frame = { type: "msg", to: conv.name, text };
  else frame = conv.direct ? { type: "say", text } : { type: "say", text, room: conv.name };
  const item = { key: conv.key, frame };
  if (!state.welcomed || !link.open) {
    if (state.outbox.length < MAX_OUTBOX) state.outbox.push(item);
    systemLine(conv, t("queued"));
    return;
  }
  sendLine(item);
}

function resizeInput() {
  const input = $("input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  input.style.overflowY = input.scrollHeight > 160 ? "auto" : "hidden";
}

// --- connecting ---------------------------------------------------------------------------

function sendHello() {
  const rooms = [...state.conversations.values()].filter((c) => !c.direct).map((c) => c.name);
  const hello = { type: "hello", nick: state.nick, lang, rooms: rooms.filter((r) => r !== GENERAL) };
  if (state.maxId > 0) hello.since = state.maxId;
  if (state.password) hello.password = state.password;
  if (state.serverPassword) hello.server_password = state.serverPassword;
  link.send(hello);
}

function connectionLost(delay) {
  state.welcomed = false;
  if (state.quitting || !state.everWelcomed) {
    link.stop();
    if (!state.everWelcomed) loginFailed(null);
    return;
  }
  setStatus(t("reconnecting", { s: Math.ceil(delay / 1000) }), "down");
}

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function welcomed(frame) {
  const resumed = state.everWelcomed;
  state.welcomed = true;
  state.everWelcomed = true;
  state.nick = frame.nick;
  link.welcomed();
  $("login").hidden = true;
  $("chat").hidden = false;
  $("me").textContent = frame.nick;
  setStatus(t("connected"), "up");
  if (resumed) {
    for (const item of state.pending.values()) {
      // Direct messages are not replayed: whether one arrived cannot be known.
      if (item.frame.type === "msg") notSent(item);
      else state.resend.push(item);
    }
    state.pending.clear();
  } else {
    $("input").focus();
  }
  if (frame.motd) systemLine(conversation(GENERAL), frame.motd);
  if (state.leftGeneral) request({ type: "part", room: GENERAL }, GENERAL);
  state.roomsLabel = request({ type: "rooms" }, GENERAL);
  for (const item of state.outbox.splice(0)) sendLine(item);
}

function notSent(item) {
  systemLine(conversation(item.key), t("notSent", { text: item.frame.text }));
  if (!$("input").value) $("input").value = item.frame.text;
}

/** A room's resume is complete: send again what it does not hold. */
function resendFor(conv) {
  const left = [];
  for (const item of state.resend) {
    if (item.key === conv.key) sendLine(item);
    else left.push(item);
  }
  state.resend = left;
}

/** Messages the server replayed: the unconfirmed ones among them did arrive. */
function confirmFromReplay(conv, messages) {
  for (const m of messages) {
    if (!sameNick(m.user, state.nick)) continue;
    const i = state.resend.findIndex((item) => item.key === conv.key && messageText(item.frame) === m.text);
    if (i >= 0) state.resend.splice(i, 1);
  }
}

// --- frames from the server ---------------------------------------------------------------

const HANDLERS = {
  welcome: welcomed,
  joined(frame) {
    const conv = conversation(frame.room);
    if (frame.room === GENERAL) state.leftGeneral = false;
    // The first room, and a room the user asked to join (/unirse), come to the front.
    if (!state.active || (frame.label && state.routes.has(frame.label))) activate(conv);
    if (Number.isInteger(frame.read)) conv.readMark = Math.max(conv.readMark, frame.read);
    setTopic(conv, frame.topic);
    request({ type: "users", room: frame.room }, frame.room);
  },
  parted(frame) {
    const conv = conversation(frame.room, { create: false });
    if (frame.room === GENERAL) state.leftGeneral = true;
    if (conv) removeConversation(conv);
  },
  history(frame) {
    const conv = conversation(frame.room, { create: false });
    if (!conv) return;
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    if (frame.before != null) {
      historyPage(conv, frame, messages);
      return;
    }
    addMessages(conv, messages);
    confirmFromReplay(conv, messages);
    if (frame.since != null && frame.more && messages.length) {
      conv.backfillTo = frame.since;
      request({ type: "history", room: conv.name, before: messages[0].id, limit: PAGE }, conv.key);
      return;
    }
    resendFor(conv);
    markReadSoon();
    if (frame.since == null && !messages.length) {
      conv.exhausted = true;
      setTop(conv, "start");
    }
    maybePageBack(conv);
  },
  message(frame) {
    if (typeof frame.id !== "number" || typeof frame.text !== "string" || typeof frame.user !== "string") return;
    if (frame.label) state.pending.delete(frame.label);
    let conv;
    if (frame.room != null) {
      conv = conversation(frame.room, { create: false });
    } else {
      const other = sameNick(frame.user, state.nick) ? frame.to : frame.user;
      conv = conversation(`@${other}`);
    }
    if (!conv) return;
    if (addMessages(conv, [frame]).length) notice(conv, frame);
    markReadSoon();
  },
  reaction(frame) {
    sawChange(frame);
    const li = messageLine(frame.room, frame.id);
    if (!li || li.classList.contains("deleted") || typeof frame.emoji !== "string" || typeof frame.user !== "string") return;
    toggleReaction(li.reactions, frame.emoji, frame.user, frame.on === true);
    showReactions(li);
  },
  edited(frame) {
    sawChange(frame);
    const li = messageLine(frame.room, frame.id);
    if (!li || li.classList.contains("deleted") || typeof frame.text !== "string") return;
    fillText(li.querySelector(".text"), frame.text, true);
  },
  deleted(frame) {
    sawChange(frame);
    const li = messageLine(frame.room, frame.id);
    if (li) markDeleted(li);
  },
  read(frame) {
    if (!Number.isInteger(frame.id)) return;
    const key = typeof frame.with === "string" ? `@${frame.with}` : frame.room;
    const conv = typeof key === "string" ? conversation(key, { create: false }) : null;
    if (conv) readUpTo(conv, frame.id);
  },
  rooms(frame) {
    if (!Array.isArray(frame.rooms)) return;
    unreadFromServer(frame.rooms);
    if (frame.label === state.roomsLabel) return;
    const names = frame.rooms.map((r) => `#${r.name} (${r.users})`).join("  ");
    systemLine(routed(frame.label), names);
  },
  mode(frame) {
    const modes = [];
    if (frame.invite_only) modes.push(`+i (${t("inviteOnly")})`);
    if (frame.moderated) modes.push(`+m (${t("moderated")})`);
    if (frame.slow) modes.push(`+s ${frame.slow} (${t("slow", { s: frame.slow })})`);
    if (frame.open_topic === false) modes.push(`+t (${t("topicLocked")})`);
    listing(frame, [t("modes", { room: frame.room, modes: modes.join(", ") || t("modesNone") })]);
  },
  results(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    const header = t(frame.more ? "foundMore" : "found", { n: messages.length, query: frame.query });
    listing(frame, [header, ...messages.map((m) => `${clock(m.ts, lang)[1]} ${m.room != null ? `#${m.room}` : `→ ${m.to}`} ${m.user}: ${m.text}`)]);
  },
  dms(frame) {
    const list = Array.isArray(frame.conversations) ? frame.conversations : [];
    if (!list.length) return listing(frame, [t("dmsNone")]);
    listing(frame, [t("dms"), ...list.map((c) => `${clock(c.last_ts, lang)[1]} ${c.nick} (#${c.last_id})`)]);
  },
  bans(frame) {
    const where = scopeName(frame.room);
    const bans = Array.isArray(frame.bans) ? frame.bans : [];
    if (!bans.length) return listing(frame, [t("bansNone", { where })]);
    const line = (b) => {
      let text = t("banBy", { nick: b.nick, by: b.by });
      if (b.address) text += ` (${b.address})`;
      if (b.until) text += ` ${t("until", { until: clock(b.until, lang)[1] })}`;
      return b.reason ? `${text}: ${b.reason}` : text;
    };
    listing(frame, [t("bans", { where }), ...bans.map(line)]);
  },
  modlog(frame) {
    const where = scopeName(frame.room);
    const entries = Array.isArray(frame.entries) ? frame.entries : [];
    if (!entries.length) return listing(frame, [t("modlogNone", { where })]);
    listing(frame, [t("modlog", { where }), ...entries.map(modlogLine)]);
  },
  users(frame) {
    const conv = conversation(frame.room, { create: false });
    if (conv && Array.isArray(frame.users)) setUsers(conv, frame.users);
  },
  system(frame) {
    const conv = frame.room != null ? conversation(frame.room, { create: false }) : routed(frame.label);
    if (frame.room != null && !conv) return;
    if (conv && !conv.direct) {
      if (frame.event === "join") setUsers(conv, [...conv.users, frame.user]);
      if (frame.event === "leave") setUsers(conv, conv.users.filter((u) => u !== frame.user));
      if (frame.event === "topic" && topicAnswer(conv, frame)) return;
      if (frame.event === "nick") {
        setUsers(conv, conv.users.map((u) => (u === frame.user ? frame.new : u)));
        if (sameNick(frame.user, state.nick)) {
          state.nick = frame.new;
          $("me").textContent = frame.new;
        }
      }
    }
    systemLine(conv, frame.text || systemText(frame));
  },
  error(frame) {
    if (!state.welcomed) {
      loginFailed(frame);
      return;
    }
    state.pending.delete(frame.label);
    for (const each of state.conversations.values()) if (each.topicQuery === frame.label) each.topicQuery = null;
    const conv = routed(frame.label);
    systemLine(conv, frame.message);
    if (frame.text && !$("input").value) $("input").value = frame.text;
  },
  bye(frame) {
    if (state.quitting) link.stop();
    systemLine(state.active, frame.reason ? t("bye", { reason: frame.reason }) : t("byeNoReason"));
  },
  ping(frame) {
    link.send(frame.token != null ? { type: "pong", token: frame.token } : { type: "pong" });
  },
};

function historyPage(conv, frame, messages) {
  if (conv.backfillTo !== null) {
    addMessages(conv, messages);
    confirmFromReplay(conv, messages);
    const reached = !messages.length || messages[0].id <= conv.backfillTo;
    if (reached) {
      conv.backfillTo = null;
      resendFor(conv);
    } else {
      request({ type: "history", room: conv.name, before: messages[0].id, limit: PAGE }, conv.key);
    }
    return;
  }
  conv.loading = false;
  addMessages(conv, messages);
  if (!messages.length) {
    conv.exhausted = true;
    setTop(conv, "start");
  } else {
    setTop(conv, null);
    maybePageBack(conv);
  }
}

/** A change of topic is a sentence (who set what): the topic itself is asked for, one
 * question per room at a time, however fast it changes. The answer (no `by`) is the topic;
 * true when it needs no line in the log. */
function topicAnswer(conv, frame) {
  if (frame.by) {
    if (conv.topicQuery === null) conv.topicQuery = request({ type: "topic", room: conv.name }, conv.key);
    return false;
  }
  setTopic(conv, frame.text);
  if (frame.label == null || frame.label !== conv.topicQuery) {
    systemLine(conv, t("topicIs", { text: frame.text || "" }));
  }
  if (frame.label === conv.topicQuery) conv.topicQuery = null;
  return true;
}

// --- answers that list things: /modo, /buscar, /privados, /vetados, /registro ----------

/** `lines` in the log of the conversation the request came from, one line each. */
function listing(frame, lines) {
  const conv = routed(frame.label);
  for (const line of lines) systemLine(conv, line);
}

function scopeName(room) {
  return room != null ? `#${room}` : t("theServer");
}

/** The command that did it, in the page's language (`/echar eve`), as moderators type it. */
const ACTION_COMMANDS = {
  es: {
    kick: "echar",
    ban: "vetar",
    unban: "desvetar",
    mute: "silenciar",
    unmute: "desilenciar",
    invite: "invitar",
    mode: "modo",
    voice: "voz",
    devoice: "quitarvoz",
    owner: "dueño",
    kill: "desconectar",
    topic: "tema",
    delete: "borrar",
  },
  en: {},
};

function modlogLine(entry) {
  const command = `/${ACTION_COMMANDS[lang][entry.action] ?? entry.action}`;
  const parts = [clock(entry.ts, lang)[1], `${entry.by}:`, command];
  if (entry.room != null && entry.action !== "kill") parts.push(`#${entry.room}`);
  for (const value of [entry.nick, entry.address && `(${entry.address})`, entry.text]) if (value) parts.push(value);
  if (entry.until) parts.push(t("until", { until: clock(entry.until, lang)[1] }));
  if (entry.reason) parts.push(`— ${entry.reason}`);
  return parts.join(" ");
}

function systemText(frame) {
  if (frame.event === "join") return t("joined", { user: frame.user });
  if (frame.event === "leave") return t("left", { user: frame.user });
  if (frame.event === "nick") return t("renamed", { user: frame.user, new: frame.new });
  return "";
}

function routed(label) {
  const key = label ? state.routes.get(label) : null;
  return (key && state.conversations.get(key)) || state.active;
}

function onFrame(frame) {
  const handle = HANDLERS[frame.type];
  if (handle) handle(frame);
}

function sameNick(a, b) {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

// --- login --------------------------------------------------------------------------------

function loginFailed(frame) {
  link.stop();
  state.welcomed = false;
  $("chat").hidden = true;
  $("login").hidden = false;
  $("login-form").querySelector("button").disabled = false;
  if (frame) {
    $("login-error").textContent = frame.message;
    if (frame.code === "nick_registered" || (frame.code === "bad_password" && state.password)) {
      $("password").focus();
    }
    if (frame.code === "bad_password" && (/server|servidor/i.test(frame.message) || !state.password)) {
      $("server-password-row").hidden = false;
      $("server-password").focus();
    }
  }
}

function login(event) {
  event.preventDefault();
  state.nick = $("nick").value.trim();
  state.password = $("password").value || null;
  state.serverPassword = $("server-password").value || null;
  if (!state.nick) return;
  $("login-error").textContent = t("connecting");
  $("login-form").querySelector("button").disabled = true;
  link.connect();
}

// --- keyboard -----------------------------------------------------------------------------

function onInputKey(event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
}

function onTabKey(event) {
  const tabs = [...state.conversations.values()];
  const at = tabs.indexOf(state.active);
  let next = null;
  if (event.key === "ArrowRight") next = tabs[(at + 1) % tabs.length];
  else if (event.key === "ArrowLeft") next = tabs[(at - 1 + tabs.length) % tabs.length];
  else if (event.key === "Home") next = tabs[0];
  else if (event.key === "End") next = tabs[tabs.length - 1];
  if (!next) return;
  event.preventDefault();
  activate(next);
  next.tab.focus();
}

function onGlobalKey(event) {
  // Alt+1…9 picks a tab from anywhere, Alt+↑/↓ the previous or next one.
  if (!event.altKey || $("chat").hidden) return;
  const tabs = [...state.conversations.values()];
  let next = null;
  if (/^[1-9]$/.test(event.key)) next = tabs[Number(event.key) - 1];
  else if (event.key === "ArrowDown") next = tabs[(tabs.indexOf(state.active) + 1) % tabs.length];
  else if (event.key === "ArrowUp") next = tabs[(tabs.indexOf(state.active) - 1 + tabs.length) % tabs.length];
  if (!next) return;
  event.preventDefault();
  activate(next);
}

// --- start --------------------------------------------------------------------------------

function translatePage() {
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
}

function start() {
  translatePage();
  setUpNotifications();
  if (window.matchMedia("(max-width: 700px)").matches) $("people").open = false;
  $("login-form").addEventListener("submit", login);
  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
    $("input").focus();
  });
  $("input").addEventListener("keydown", onInputKey);
  $("input").addEventListener("input", resizeInput);
  $("tabs").addEventListener("keydown", onTabKey);
  document.addEventListener("keydown", onGlobalKey);
  $("nick").focus();
}

start();
