import { type Json, savedKey } from './api.js';

/** A reading as the live feed pushes it: its series, time (epoch ms) and value. */
export interface LiveReading {
  series: string;
  time: number;
  value: number;
}

/** Opens `WS /api/v1/ws` (with the saved key when reads need one), closed when `signal` aborts. */
function openLive(signal: AbortSignal): WebSocket {
  const url = `${location.origin.replace(/^http/, 'ws')}/api/v1/ws`;
  const key = savedKey();
  const socket = key ? new WebSocket(url, ['wattline', key]) : new WebSocket(url);
  signal.addEventListener('abort', () => socket.close(), { once: true });
  return socket;
}

/**
 * Readings of `series` committed from now on, over `WS /api/v1/ws` (with the saved key when reads need
 * one). The socket closes when `signal` aborts: the view that opened it was drawn again or replaced.
 */
export function liveReadings(signal: AbortSignal, series: string[], reading: (r: LiveReading) => void): void {
  if (signal.aborted || series.length === 0) return;
  const socket = openLive(signal);
  socket.addEventListener('open', () => socket.send(JSON.stringify({ action: 'subscribe', series })));
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data));
    if (message.type !== 'reading' || typeof message.value !== 'number') return;
    reading({ series: message.series, time: Date.parse(message.timestamp), value: message.value });
  });
}

/**
 * Messages of the given `types` the server sends every client of `WS /api/v1/ws` (the flex module's
 * `dr_event` and `dr_device`), from now on; `opened` is called once the socket is open. The socket
 * closes when `signal` aborts.
 */
export function liveMessages(
  signal: AbortSignal,
  types: string[],
  message: (m: Json) => void,
  opened: () => void = () => undefined,
): void {
  if (signal.aborted) return;
  const socket = openLive(signal);
  socket.addEventListener('open', opened);
  socket.addEventListener('message', (event) => {
    const parsed = JSON.parse(String(event.data));
    if (types.includes(parsed?.type)) message(parsed);
  });
}
