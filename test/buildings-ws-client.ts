import WebSocket from 'ws';

// biome-ignore lint/suspicious/noExplicitAny: a test reads frames field by field and asserts on them
export type Frame = any;

/** What the server sent so far, and how to wait for more (with a deadline, never a sleep). */
export interface LiveClient {
  ws: WebSocket;
  frames: Frame[];
  /** Waits for a frame matching `match` among those not taken yet; takes it and every frame before it. */
  until(match: (f: Frame) => boolean, what: string, timeoutMs?: number): Promise<Frame[]>;
  send(message: unknown): void;
  /** Resolves with the close code and reason when the connection closes. */
  closed: Promise<{ code: number; reason: string }>;
}

/** How long a frame may take to arrive once the server has it: the issue asks for readings within a second. */
export const WITHIN_MS = 1000;

/** Opens a WebSocket and resolves once it is open; rejects with the HTTP status when the upgrade is refused. */
export function openLive(
  url: string,
  protocols?: string | string[],
  options: WebSocket.ClientOptions = {},
): Promise<LiveClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const frames: Frame[] = [];
    let wake: (() => void) | undefined;
    ws.on('message', (data) => {
      frames.push(JSON.parse(data.toString()));
      wake?.();
    });
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      ws.on('close', (code, reason) => {
        done({ code, reason: reason.toString() });
        wake?.();
      }),
    );
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode }));
    });
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        closed,
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        async until(match, what, timeoutMs = WITHIN_MS) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const i = frames.findIndex(match);
            if (i >= 0) return frames.splice(0, i + 1);
            const left = deadline - Date.now();
            if (left <= 0 || ws.readyState === WebSocket.CLOSED)
              throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(0, 5))}`);
            await new Promise<void>((r) => {
              const timer = setTimeout(r, left);
              wake = () => {
                clearTimeout(timer);
                r();
              };
            });
          }
        },
      }),
    );
  });
}

/** The `ws://` URL of the live WebSocket of an app at `httpUrl`. */
export const wsUrl = (httpUrl: string, query = '') => `${httpUrl.replace(/^http/, 'ws')}/api/v1/ws${query}`;

/** The readings among frames, as `series=value (sensor)` for easy comparison. */
export const readingsOf = (frames: Frame[]) =>
  frames
    .filter((f) => f.type === 'reading')
    .map((f) => `${f.series}=${f.value}${f.sensor_id ? ` (${f.sensor_id})` : ''}`);

/** `promise`, or a failure naming `what` after `timeoutMs`: a wait with a deadline. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
