// Everything a user wrote is shown through text nodes and textContent, never parsed as
// HTML. Links are made only for http and https URLs; anything else (javascript:, data:)
// stays plain text.

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that usually ends a sentence rather than a link.
const TRAILING = /[.,;:!?)\]}»”’]+$/;

/** A safe link for `candidate`, or null when it is not a plain http(s) URL. */
export function safeUrl(candidate) {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** `text` as DOM nodes appended to `parent`: text nodes, and <a> for http(s) links. */
export function appendText(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    const trail = raw.match(TRAILING);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const href = safeUrl(raw);
    if (!href) continue;
    parent.append(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = href;
    a.textContent = raw;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    parent.append(a);
    last = match.index + raw.length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

/** One of 12 colour classes for a nick, the same on every page load. */
export function nickClass(nick) {
  let hash = 0;
  for (const ch of nick.toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `c${hash % 12}`;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/** Whether `text` names `nick` as a word (any case). */
export function mentions(text, nick) {
  if (!nick) return false;
  const re = new RegExp(`(^|[^\\p{L}\\p{N}_])${escapeRegExp(nick)}($|[^\\p{L}\\p{N}_])`, "iu");
  return re.test(text);
}

/** HH:MM in the viewer's time zone, and the full date for the tooltip. */
export function clock(ts, lang) {
  const when = new Date(ts);
  if (Number.isNaN(when.getTime())) return ["--:--", ""];
  const short = when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  return [short, when.toLocaleString(lang)];
}
