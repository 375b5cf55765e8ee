// The live event stream (GET /v1/events/stream) read with fetch, because EventSource cannot
// send the Authorization header. It parses server-sent events itself, remembers the last
// id (an archive position) and resumes from it with Last-Event-ID after any break, so no
// event is lost across reconnections; it waits longer after each failure, up to 30 s.

import { token } from "./session.js";

const STREAM = "/v1/events/stream";
const MAX_DELAY = 30000;

export class LiveStream {
  constructor({ onEvent, onState, onUnauthorized }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.lastId = null;
    this.retry = 3000;
    this.running = false;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.run();
  }

  stop() {
    this.running = false;
    this.controller?.abort();
    this.onState("off");
  }

  async run() {
    let failures = 0;
    while (this.running) {
      this.onState("connecting");
      this.controller = new AbortController();
      try {
        const response = await fetch(STREAM, {
          headers: this.headers(),
          signal: this.controller.signal,
          cache: "no-store",
        });
        if (response.status === 401) {
          this.running = false;
          this.onState("off");
          this.onUnauthorized();
          return;
        }
        if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
        failures = 0;
        this.onState("on");
        await this.read(response.body);
      } catch {
        failures += 1;
      }
      if (!this.running) return;
      this.onState("off");
      const delay = failures ? Math.min(this.retry * 2 ** (failures - 1), MAX_DELAY) : this.retry;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.8 + Math.random() * 0.4)));
    }
  }

  headers() {
    const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
    if (this.lastId !== null) headers["Last-Event-ID"] = this.lastId;
    return headers;
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        this.dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  // One message of the text/event-stream format (comments are heartbeats: skipped).
  dispatch(block) {
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") this.lastId = value;
      else if (field === "data") data.push(value);
      else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    }
    if (!data.length) return;
    try {
      this.onEvent(JSON.parse(data.join("\n")));
    } catch (error) {
      console.error("live event not shown", error);
    }
  }
}
