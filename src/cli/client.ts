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

  async function send(method: string, path: string, init: { body?: string; contentType?: string } = {}) {
    const response = await fetch(base + path, {
      method,
      headers: { ...auth, ...(init.contentType ? { 'content-type': init.contentType } : {}) },
      body: init.body,
    });
    if (response.status === 401 && !options.key)
      throw new CliError(
        `no API key: set WATTLINE_API_KEY or --key${options.keyLookedIn ? `; looked in ${options.keyLookedIn}` : ''}`,
      );
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: response.status, headers: response.headers, body };
  }

  return {
    send,
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
