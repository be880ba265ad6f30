import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';

/**
 * The CLI is a client of a running server (like `influx` of `influxd`): every command other than
 * `serve` goes through the HTTP API.
 */
export interface ClientOptions {
  url: string;
  key?: string;
  /** Where the key was looked for when there is none: said when the server asks for one. */
  keyLookedIn?: string;
}

/** A mistake of the user's that one line explains (printed as `wattline: <message>`, exit code 1). */
export class CliError extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const message =
      body && typeof body === 'object' && 'error' in body
        ? String((body as { error: unknown }).error)
        : JSON.stringify(body);
    super(`HTTP ${status}: ${message}`);
  }
}

export function createClient(options: ClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  const auth: Record<string, string> = options.key ? { authorization: `Bearer ${options.key}` } : {};

  async function request(method: string, path: string, init: { body?: string; contentType?: string } = {}) {
    const response = await fetch(base + path, {
      method,
      headers: { ...auth, ...(init.contentType ? { 'content-type': init.contentType } : {}) },
      body: init.body,
    });
    if (response.status === 401 && !options.key)
      throw new CliError(
        `no API key: set WATTLINE_API_KEY or --key${options.keyLookedIn ? `; looked in ${options.keyLookedIn}` : ''}`,
      );
    return response;
  }

  async function bodyOf(response: Response): Promise<unknown> {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      // not JSON: keep the text for the error message
      return text;
    }
  }

  async function send(method: string, path: string, init: { body?: string; contentType?: string } = {}) {
    const response = await request(method, path, init);
    return { status: response.status, headers: response.headers, body: await bodyOf(response) };
  }

  return {
    send,
    /** A GET whose answer is a file: its bytes as a stream, and the name the server gave it. */
    async download(path: string): Promise<{ body: Readable; filename: string | undefined }> {
      const response = await request('GET', path);
      if (response.status >= 400 || !response.body) throw new ApiError(response.status, await bodyOf(response));
      const filename = /filename="([^"/\\]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
      return { body: Readable.fromWeb(response.body as NodeWebReadableStream), filename };
    },
    async json<T>(method: string, path: string, payload?: unknown): Promise<T> {
      const r = await send(
        method,
        path,
        payload === undefined ? {} : { body: JSON.stringify(payload), contentType: 'application/json' },
      );
      if (r.status >= 400) throw new ApiError(r.status, r.body);
      return r.body as T;
    },
  };
}

export type Client = ReturnType<typeof createClient>;
