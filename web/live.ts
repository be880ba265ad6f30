import { savedKey } from './api.js';

/** A reading as the live feed pushes it: its series, time (epoch ms) and value. */
export interface LiveReading {
  series: string;
  time: number;
  value: number;
}

/**
 * Readings of `series` committed from now on, over `WS /api/v1/ws` (with the saved key when reads need
 * one). The socket closes when `signal` aborts: the view that opened it was drawn again or replaced.
 */
export function liveReadings(signal: AbortSignal, series: string[], reading: (r: LiveReading) => void): void {
  if (signal.aborted || series.length === 0) return;
  const url = `${location.origin.replace(/^http/, 'ws')}/api/v1/ws`;
  const key = savedKey();
  const socket = key ? new WebSocket(url, ['wattline', key]) : new WebSocket(url);
  socket.addEventListener('open', () => socket.send(JSON.stringify({ action: 'subscribe', series })));
  signal.addEventListener('abort', () => socket.close(), { once: true });
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data));
    if (message.type !== 'reading' || typeof message.value !== 'number') return;
    reading({ series: message.series, time: Date.parse(message.timestamp), value: message.value });
  });
}
