// Live MQTT messages from the bundled broker: GET /tap?topic=<filter> on the dashboard streams
// server-sent events, one JSON object per message ({topic, payload, qos, retain, ts, dropped?}).
// fetch() is used instead of EventSource so that the Authorization header can be sent.
import { authHeaders } from './api.js';

/**
 * Opens a stream for filter. onMessage(msg) per message; onState('open'|'closed'|'error', text).
 * Returns {close()}. Reconnects after an error every 3 s until closed.
 */
export function tap(filter, onMessage, onState = () => {}) {
  let ctrl = null, closed = false, timer = null;
  async function run() {
    ctrl = new AbortController();
    try {
      const r = await fetch('/tap?topic=' + encodeURIComponent(filter), { headers: authHeaders(), signal: ctrl.signal });
      if (!r.ok) {
        let msg = r.statusText;
        try { msg = (await r.json()).message || msg; } catch { /* not JSON */ }
        onState('error', msg, r.status);
        if (r.status === 404 || r.status === 400 || r.status === 401) return; // will not get better by retrying
        throw new Error(msg);
      }
      onState('open');
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) {
            try { onMessage(JSON.parse(data)); } catch (e) { console.warn('tap: bad event', e); }
          }
        }
      }
      if (!closed) throw new Error('the stream ended');
    } catch (e) {
      if (closed) return;
      onState('closed', e.message);
      timer = setTimeout(run, 3000);
    }
  }
  run();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (ctrl) ctrl.abort();
    },
  };
}
