import { FolderLocation } from './folder.js';
import { FtpLocation } from './ftp.js';
import type { Location, LocationOptions } from './types.js';
import { parseLocationUrl } from './url.js';

export type { Location, LocationOptions, LocationProblem, RemoteFile } from './types.js';
export { DEFAULT_LOCATION_OPTIONS, LocationError } from './types.js';
export { parseLocationUrl, redact, seedFtpUrl } from './url.js';

/**
 * A watched location for `ftp://user:pass@host[:port]/dir`, `ftps://…[?insecure=1]` (explicit TLS) or
 * `file:///abs/dir`. Only parses the URL (throwing InvalidInput `invalid_location_url` naming it,
 * redacted); nothing is contacted until the first `list()` or `download()`.
 *
 * @example
 * const location = openLocation('ftp://meter:s3cret@ftp.example.com/loads', { ...DEFAULT_LOCATION_OPTIONS, recursive: true });
 * for (const file of await location.list()) await location.download(file, join(inbox, basename(file.path)));
 * await location.close();
 */
export function openLocation(url: string, options: LocationOptions): Location {
  const target = parseLocationUrl(url);
  return target.kind === 'folder' ? new FolderLocation(target, options) : new FtpLocation(target, options);
}
