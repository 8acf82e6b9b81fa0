// The page's own words in Spanish and English. The server's words (system lines, errors)
// come already in the language sent in hello.

const WORDS = {
  es: {
    title: "charla",
    intro: "Entra con tu nick. Si está registrado, escribe también su contraseña.",
    nick: "Nick",
    password: "Contraseña (si el nick está registrado)",
    serverPassword: "Contraseña del servidor",
    enter: "Entrar",
    connecting: "Conectando…",
    connected: "Conectado",
    reconnecting: "Sin conexión; reintentando en {s} s…",
    rooms: "Salas",
    users: "Usuarios",
    message: "Mensaje",
    send: "Enviar",
    inputHelp: "Intro envía, Mayús+Intro añade una línea, /ayuda lista los comandos.",
    notify: "Avisarme",
    notifyTitle: "Avisar de menciones y mensajes directos cuando la pestaña no está a la vista",
    mention: "{user} te menciona en #{room}",
    direct: "Mensaje directo de {user}",
    older: "Cargando mensajes anteriores…",
    start: "Principio de la conversación",
    queued: "Sin conexión: se enviará al reconectar.",
    notSent: "No enviado (se cortó la conexión): {text}",
    joined: "{user} entra",
    left: "{user} sale",
    renamed: "{user} ahora es {new}",
    bot: "bot",
    bye: "El servidor cerró la conexión ({reason}).",
    closeTab: "Cerrar",
    logLabel: "Mensajes de {room}",
    replyTo: "↪ {user}: {text}",
    replyToDeleted: "↪ {user}: (mensaje borrado)",
    reactionLabel: "{emoji} {count}: {users}. Pulsa para poner o quitar el tuyo",
    edited: "(editado)",
    deleted: "mensaje borrado",
    topicIs: "Tema: {text}",
  },
  en: {
    title: "charla",
    intro: "Enter your nick. If it is registered, type its password too.",
    nick: "Nick",
    password: "Password (if the nick is registered)",
    serverPassword: "Server password",
    enter: "Enter",
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Disconnected; retrying in {s} s…",
    rooms: "Rooms",
    users: "Users",
    message: "Message",
    send: "Send",
    inputHelp: "Enter sends, Shift+Enter adds a line, /help lists the commands.",
    notify: "Notify me",
    notifyTitle: "Notify me of mentions and direct messages while the tab is not visible",
    mention: "{user} mentions you in #{room}",
    direct: "Direct message from {user}",
    older: "Loading older messages…",
    start: "Start of the conversation",
    queued: "Disconnected: it will be sent on reconnect.",
    notSent: "Not sent (the connection dropped): {text}",
    joined: "{user} joined",
    left: "{user} left",
    renamed: "{user} is now {new}",
    bot: "bot",
    bye: "The server closed the connection ({reason}).",
    closeTab: "Close",
    logLabel: "Messages of {room}",
    replyTo: "↪ {user}: {text}",
    replyToDeleted: "↪ {user}: (message deleted)",
    reactionLabel: "{emoji} {count}: {users}. Press to add or take back yours",
    edited: "(edited)",
    deleted: "message deleted",
    topicIs: "Topic: {text}",
  },
};

/** es or en: the first of the browser's languages that is one of them (es otherwise,
 * as the rest of charla). */
export function pickLang(languages) {
  for (const tag of languages) {
    const code = String(tag).toLowerCase().split(/[-_]/)[0];
    if (code in WORDS) return code;
  }
  return "es";
}

export const lang = pickLang(navigator.languages?.length ? navigator.languages : [navigator.language || "es"]);

/** The page's text for `key`, with {names} filled in. */
export function t(key, values = {}) {
  const text = WORDS[lang][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
