// What the conversations section of docs/protocol.md adds to a message line: the message
// it answers, its reactions, "(edited)" and "message deleted". User data reaches the page
// through textContent and text nodes only (text.js).

import { t } from "./i18n.js";
import { appendText } from "./text.js";

/** One dimmed line above a reply: who wrote what it answers, and the start of it. */
export function parentLine(parent) {
  const line = document.createElement("span");
  line.className = "parent";
  const who = typeof parent.user === "string" ? parent.user : "?";
  line.textContent = parent.deleted
    ? t("replyToDeleted", { user: who })
    : t("replyTo", { user: who, text: typeof parent.text === "string" ? parent.text : "" });
  return line;
}

/** `reactions` of a history message as a map emoji → users, dropping what is malformed. */
export function reactionMap(reactions) {
  const map = new Map();
  if (!reactions || typeof reactions !== "object") return map;
  for (const [emoji, users] of Object.entries(reactions)) {
    if (Array.isArray(users)) map.set(emoji, users.filter((u) => typeof u === "string"));
  }
  return map;
}

/** A `reaction` frame applied to the map: the user's emoji added or taken back. */
export function toggleReaction(map, emoji, user, on) {
  const users = (map.get(emoji) ?? []).filter((u) => u !== user);
  if (on) users.push(user);
  if (users.length) map.set(emoji, users);
  else map.delete(emoji);
}

/** The line of `emoji count` buttons under a message; a click toggles `me`'s reaction. */
export function reactionsLine(map, me, onToggle) {
  const line = document.createElement("span");
  line.className = "reactions";
  for (const [emoji, users] of map) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${emoji} ${users.length}`;
    const mine = users.some((u) => u.toLowerCase() === String(me).toLowerCase());
    button.setAttribute("aria-pressed", String(mine));
    button.setAttribute("aria-label", t("reactionLabel", { emoji, count: users.length, users: users.join(", ") }));
    button.title = users.join(", ");
    button.addEventListener("click", () => onToggle(emoji));
    line.append(button);
  }
  return line;
}

/** The text of a message, with "(edited)" after it once it was edited. */
export function fillText(span, text, edited) {
  span.replaceChildren();
  appendText(span, text);
  if (edited) {
    const mark = document.createElement("span");
    mark.className = "edited";
    mark.textContent = ` ${t("edited")}`;
    span.append(mark);
  }
}

/** A deleted message keeps its time and author; its text becomes a dimmed notice. */
export function markDeleted(li) {
  li.classList.add("deleted");
  li.querySelector(".text").textContent = t("deleted");
  li.querySelector(".reactions")?.remove();
}
