// One WebSocket to the server at a time, reconnected with backoff: delays double from
// 0.5 s to 30 s, each drawn in the upper half of its step (jitter), so pages dropped
// together by a restart do not come back in one burst. A welcome resets the delay.

const FIRST_DELAY = 500;
const MAX_DELAY = 30000;

export class Link {
  /** `onFrame(frame)` for every frame, `onOpen()` when a socket opens, `onDown(ms)` when
   * it is lost and another try follows in `ms`. */
  constructor({ onFrame, onOpen, onDown }) {
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onDown = onDown;
    this.socket = null;
    this.step = FIRST_DELAY;
    this.timer = null;
    this.stopped = false;
  }

  get url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  connect() {
    clearTimeout(this.timer);
    this.stopped = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => this.onOpen());
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not a frame: skipped, as a client skips what it does not know
      }
      if (frame && typeof frame.type === "string") this.onFrame(frame);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      const delay = this.step / 2 + Math.random() * (this.step / 2);
      this.step = Math.min(this.step * 2, MAX_DELAY);
      this.timer = setTimeout(() => this.connect(), delay);
      this.onDown(delay);
    });
  }

  /** A welcome came: the next drop starts again from the shortest delay. */
  welcomed() {
    this.step = FIRST_DELAY;
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Close and do not come back (after /salir, or a refused hello). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
  }
}
