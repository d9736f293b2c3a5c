// @ts-check
/*
 * Live status from GET /api/v1/events (server-sent events), read with fetch and a stream reader:
 * EventSource cannot send the Authorization header. Reconnects with Last-Event-ID so nothing is
 * missed, backing off while the server is away.
 */

/**
 * @typedef {{ type: string, data: string, id?: string }} ServerEvent
 * @typedef {'on' | 'retrying' | 'off'} LiveState
 * @typedef {{ token: () => string | null, onEvent: (event: ServerEvent) => void, onState: (state: LiveState) => void, onUnauthorized: () => void }} Follower
 */

/**
 * Follows the stream until `signal` aborts (or the token is refused).
 * @param {Follower} follower
 * @param {AbortSignal} signal
 */
export async function followEvents(follower, signal) {
  /** @type {string | undefined} */
  let lastEventId;
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const res = await fetch('/api/v1/events', {
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${follower.token() ?? ''}`, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
        cache: 'no-store',
        signal,
      });
      if (res.status === 401) {
        follower.onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`events answered ${res.status}`);
      follower.onState('on');
      delay = 1000;
      const parse = sseParser(follower.onEvent, (id) => (lastEventId = id));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parse(value);
      }
    } catch {
      if (signal.aborted) break;
    }
    if (signal.aborted) break;
    follower.onState('retrying');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15000);
  }
  follower.onState('off');
}

/**
 * The text/event-stream format (HTML Living Standard, "Parsing an event stream"): lines, `field:
 * value`, a blank line dispatches; comment lines (heartbeats) are skipped. An `id:` counts even
 * without data (the stream's first line is one: where to resume if nothing else arrives).
 * @param {(event: ServerEvent) => void} dispatch
 * @param {(id: string) => void} [onLastEventId]
 * @returns {(chunk: string) => void}
 */
export function sseParser(dispatch, onLastEventId = () => undefined) {
  let buffer = '';
  /** @type {{ type: string, data: string[], id: string | undefined }} */
  let event = { type: '', data: [], id: undefined };
  /** @param {string} text */
  const line = (text) => {
    if (text === '') {
      if (event.id !== undefined) onLastEventId(event.id);
      if (event.data.length > 0) dispatch({ type: event.type || 'message', data: event.data.join('\n'), id: event.id });
      event = { type: '', data: [], id: undefined };
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event.type = value;
    else if (field === 'data') event.data.push(value);
    else if (field === 'id') event.id = value;
  };
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone trailing \r may be the first half of a \r\n split across chunks: wait for more.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
      line(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
  };
}
