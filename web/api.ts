/** Reads the public API as any client does; the key (when reads need one) is kept in this browser. */
const KEY_ITEM = 'wattline.key';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function savedKey(): string {
  return localStorage.getItem(KEY_ITEM) ?? '';
}

export function saveKey(key: string) {
  if (key) localStorage.setItem(KEY_ITEM, key);
  else localStorage.removeItem(KEY_ITEM);
}

// biome-ignore lint/suspicious/noExplicitAny: replies are read field by field by each view
export type Json = any;

/** GET `path` with `params`; a reply other than 2xx throws an ApiError carrying the API's words. */
export function get(path: string, params: Record<string, string | undefined> = {}): Promise<Json> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return call('GET', path, query.size ? `${path}?${query}` : path);
}

/**
 * A change: `method` with `body` as JSON, with the saved key (changes need a write key). A reply other
 * than 2xx throws an ApiError carrying the API's words (401: no key or a wrong one; 403: too small a scope).
 */
export function send(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown): Promise<Json> {
  return call(method, path, path, JSON.stringify(body));
}

async function call(method: string, path: string, url: string, body?: string): Promise<Json> {
  const key = savedKey();
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch (err) {
    throw new ApiError(`${method} ${path}: the server did not answer (${(err as Error).message})`, 0);
  }
  const text = await response.text();
  let answer: Json = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // not JSON: its text is the message
  }
  if (!response.ok) {
    const words = typeof answer === 'object' && answer?.error ? answer.error : String(text).slice(0, 200);
    throw new ApiError(`${method} ${path}: ${response.status} ${words}`, response.status);
  }
  return answer;
}
