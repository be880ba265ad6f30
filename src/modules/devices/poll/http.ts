import { createHash, randomBytes } from 'node:crypto';

/** How to reach one device. */
export interface DeviceHttp {
  username: string;
  /** Sent only as the device asks (Basic, or Digest's hash); never in an error message. */
  password: string;
  timeoutMs: number;
  /** Aborts the request at once (the poller stopping). */
  signal?: AbortSignal;
}

/** A poll that failed, with a message fit for `last_error` (no credentials, no query string). */
export class PollError extends Error {}

/** A `WWW-Authenticate: Digest …` challenge's parameters (RFC 7616). */
export function parseChallenge(header: string): Record<string, string> | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[1].matchAll(/([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/gi))
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return params;
}

const HASHES: Record<string, string> = { md5: 'md5', 'sha-256': 'sha256' };

/**
 * The `Authorization` header answering a Digest challenge (RFC 7616, as Shelly Gen2+ devices ask:
 * SHA-256, `qop=auth`, user `admin`). Undefined for an algorithm it does not know (`-sess`, SHA-512-256).
 */
export function digestAuthorization(
  challenge: Record<string, string>,
  request: { method: string; uri: string; username: string; password: string },
  cnonce = randomBytes(8).toString('hex'),
): string | undefined {
  const algorithm = challenge.algorithm ?? 'MD5';
  const hash = HASHES[algorithm.toLowerCase()];
  if (!hash || challenge.nonce === undefined) return undefined;
  const h = (s: string) => createHash(hash).update(s).digest('hex');
  const realm = challenge.realm ?? '';
  const ha1 = h(`${request.username}:${realm}:${request.password}`);
  const ha2 = h(`${request.method}:${request.uri}`);
  const qop = challenge.qop
    ?.split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const nc = '00000001'; // a fresh challenge for every poll: the first use of its nonce
  const response = qop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const fields = [
    `username="${request.username}"`,
    `realm="${realm}"`,
    `nonce="${challenge.nonce}"`,
    `uri="${request.uri}"`,
    `algorithm=${algorithm}`,
    `response="${response}"`,
  ];
  if (qop) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (challenge.opaque !== undefined) fields.push(`opaque="${challenge.opaque}"`);
  return `Digest ${fields.join(', ')}`;
}

/** Why fetch failed, in a few words: its own message is only "fetch failed". */
function reason(err: unknown, timeoutMs: number): string {
  if ((err as Error).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/**
 * GETs a device's JSON: with Basic credentials when it has a password, and answering a Digest
 * challenge (Shelly Gen2+) by asking again once. Throws a `PollError` on a timeout, an unreachable
 * device, a status other than 200 or a body that is not JSON.
 */
export async function getDeviceJson(url: URL, http: DeviceHttp): Promise<unknown> {
  const where = `${url.origin}${url.pathname}`; // never the query: Tasmota's password may be there
  const get = async (authorization?: string) => {
    const timeout = AbortSignal.timeout(http.timeoutMs);
    try {
      return await fetch(url, {
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
        signal: http.signal ? AbortSignal.any([timeout, http.signal]) : timeout,
      });
    } catch (err) {
      throw new PollError(`GET ${where}: ${reason(err, http.timeoutMs)}`);
    }
  };
  const basic = http.password
    ? `Basic ${Buffer.from(`${http.username || 'admin'}:${http.password}`).toString('base64')}`
    : undefined;
  let response = await get(basic);
  if (response.status === 401 && http.password) {
    const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
    await response.body?.cancel();
    const authorization =
      challenge &&
      digestAuthorization(challenge, {
        method: 'GET',
        uri: url.pathname + url.search,
        username: http.username || 'admin', // a Shelly's user is always admin
        password: http.password,
      });
    if (authorization) response = await get(authorization);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    const hint =
      response.status === 401
        ? http.password
          ? ' (wrong user name or password?)'
          : ' (the device wants a password)'
        : '';
    throw new PollError(`GET ${where}: HTTP ${response.status}${hint}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw new PollError(`GET ${where}: ${reason(err, http.timeoutMs)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PollError(`GET ${where}: the answer is not JSON`);
  }
}
