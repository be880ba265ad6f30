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
export async function get(path: string, params: Record<string, string | undefined> = {}): Promise<Json> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  const url = query.size ? `${path}?${query}` : path;
  const key = savedKey();
  let response: Response;
  try {
    response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  } catch (err) {
    throw new ApiError(`GET ${path}: the server did not answer (${(err as Error).message})`, 0);
  }
  const text = await response.text();
  let body: Json = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: its text is the message
  }
  if (!response.ok) {
    const words = typeof body === 'object' && body?.error ? body.error : String(text).slice(0, 200);
    throw new ApiError(`GET ${path}: ${response.status} ${words}`, response.status);
  }
  return body;
}
