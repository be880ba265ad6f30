import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInput } from '../../../core/errors.js';

/** Where an FTP(S) location points, decoded. */
export interface FtpTarget {
  kind: 'ftp';
  host: string;
  port: number;
  user: string;
  password: string;
  /** Explicit FTPS (`AUTH TLS` on the usual port), from the `ftps:` scheme. */
  secure: boolean;
  /** `?insecure=1`: accept self-signed or otherwise unverifiable certificates. */
  insecure: boolean;
  /** Absolute remote directory, decoded, without a trailing slash except for the root: `/loads`. */
  root: string;
  display: string;
}

/** A local folder location: `file:///abs/dir`. */
export interface FolderTarget {
  kind: 'folder';
  /** Absolute local directory. */
  root: string;
  display: string;
}

export type LocationTarget = FtpTarget | FolderTarget;

const ACCEPTED =
  'accepted: ftp://user:password@host[:port]/path, ftps://… (explicit TLS, ?insecure=1), file:///absolute/dir';

/** `url` with any password replaced by `***`; works on strings that are not valid URLs too. */
export function redact(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!match) return url;
  const [, scheme, afterScheme] = match;
  // the password ends at the last '@' of the whole URL: one with an unencoded '/', '?' or '#' in it
  // would end the authority early for a parser, but must not escape the mask
  const at = afterScheme.lastIndexOf('@');
  if (at < 0) return url;
  const userinfo = afterScheme.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${scheme}${userinfo.slice(0, colon)}:***${afterScheme.slice(at)}`;
}

function invalid(url: string, why: string): InvalidInput {
  return new InvalidInput('invalid_location_url', `location ${redact(url)}: ${why} (${ACCEPTED})`, { field: 'url' });
}

function decode(url: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    throw new InvalidInput('invalid_location_url', `location ${redact(url)}: ${what} is not valid percent-encoding`, {
      field: 'url',
      cause: err,
    });
  }
}

/** Parses and checks a location URL; throws InvalidInput (`invalid_location_url`) naming the redacted URL. */
export function parseLocationUrl(url: string): LocationTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    const error = invalid(url, 'not a URL');
    error.cause = err;
    throw error;
  }
  const display = redact(url);
  if (parsed.protocol === 'file:') {
    if (parsed.host !== '' && parsed.host !== 'localhost') throw invalid(url, 'a file URL names no host');
    if (parsed.search || parsed.hash) throw invalid(url, 'a file URL takes no query or fragment');
    const root = fileURLToPath(parsed).replace(/(.)\/+$/, '$1');
    if (!isAbsolute(root)) throw invalid(url, 'the folder must be an absolute path');
    return { kind: 'folder', root, display };
  }
  if (parsed.protocol !== 'ftp:' && parsed.protocol !== 'ftps:') {
    throw invalid(url, `unsupported scheme ${parsed.protocol.replace(/:$/, '')}`);
  }
  if (!parsed.hostname) throw invalid(url, 'no host');
  if (parsed.hash) throw invalid(url, 'a location URL takes no fragment');
  for (const key of parsed.searchParams.keys()) {
    if (key !== 'insecure') throw invalid(url, `unknown option ${key}`);
  }
  const insecureValue = parsed.searchParams.get('insecure');
  if (insecureValue !== null && !['0', '1', 'true', 'false'].includes(insecureValue)) {
    throw invalid(url, `insecure must be 1 or 0 (got "${insecureValue}")`);
  }
  const insecure = insecureValue === '1' || insecureValue === 'true';
  if (insecure && parsed.protocol !== 'ftps:') throw invalid(url, 'insecure=1 only applies to ftps://');
  const user = parsed.username ? decode(url, parsed.username, 'the user name') : 'anonymous';
  const password = parsed.password ? decode(url, parsed.password, 'the password') : parsed.username ? '' : 'guest';
  const path = decode(url, parsed.pathname, 'the path');
  const root = path === '' ? '/' : path.replace(/(.)\/+$/, '$1');
  return {
    kind: 'ftp',
    // IPv6 literals come bracketed in URLs; sockets want them bare
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : 21,
    user,
    password,
    secure: parsed.protocol === 'ftps:',
    insecure,
    root,
    display,
  };
}

/**
 * The location URL of the Energy Dashboard's FTP server from its parts (the seed's
 * `FTP_SA4CPS_HOST`, `_PORT`, `_USERNAME`, `_PASSWORD`, `_REMOTE_PATH`, as the files settings read
 * them): user, password and each path segment percent-encoded, so any characters work; an IPv6
 * host in brackets.
 */
export function seedFtpUrl(ftp: {
  host: string;
  port: number;
  username: string;
  password: string;
  remotePath: string;
}): string {
  const host = ftp.host.trim();
  const credentials = ftp.username
    ? `${encodeURIComponent(ftp.username)}${ftp.password ? `:${encodeURIComponent(ftp.password)}` : ''}@`
    : '';
  const path = ftp.remotePath
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `ftp://${credentials}${bracketed}:${ftp.port}/${path}`;
}
