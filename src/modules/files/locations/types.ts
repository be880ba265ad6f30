import { WattlineError } from '../../../core/errors.js';

/** A file seen at a location. */
export interface RemoteFile {
  /** Relative to the location's root, '/'-separated, no leading slash: `2024/03/loads.sgl_v2`. */
  path: string;
  /** In bytes, as the location reported it. */
  size: number;
  /** Last modification in epoch milliseconds; null when the server would not say. */
  modifiedMs: number | null;
}

/** One watched place that utilities drop load-curve files into: an FTP(S) server directory or a local folder. */
export interface Location {
  /** For logs, errors and API answers: the URL with any password replaced by '***'. */
  readonly display: string;
  /**
   * Files under the root matching the patterns (glob like '*.sgl_v2', matched on the base name,
   * case-insensitive), recursing into subfolders when `recursive`; never inside `rejected/`, never
   * dotfiles or `.partial` temp files. Sorted by path.
   */
  list(): Promise<RemoteFile[]>;
  /**
   * Streams the file to `toPath` (through `<toPath>.partial`, renamed when complete). A dropped
   * connection or a timeout rejects with LocationError and leaves nothing at `toPath`.
   */
  download(file: RemoteFile, toPath: string): Promise<void>;
  /** Folders only: moves the file into `rejected/` under the root (keeping its relative path); FTP: no-op returning false. */
  reject(file: RemoteFile): Promise<boolean>;
  /** Closes any open connection; the next call opens a new one. */
  close(): Promise<void>;
}

/**
 * - `unreachable`: nothing answered, or the connection dropped
 * - `auth`: login refused
 * - `not_found`: the root directory (or a listed file) is not there
 * - `timeout`: the server stopped answering for `timeoutMs`
 * - `protocol`: the server answered with an error or something we cannot use
 */
export type LocationProblem = 'unreachable' | 'auth' | 'not_found' | 'timeout' | 'protocol';

/** A location could not be listed or read. The message names the location (redacted) and never contains a password. */
export class LocationError extends WattlineError {
  constructor(
    readonly problem: LocationProblem,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    // the location, not the request, is at fault: a bad gateway for whoever asked through the API
    super(`location_${problem}`, message, { status: 502, cause: options.cause });
  }
}

export interface LocationOptions {
  /** Globs matched case-insensitively on the base name (`*` and `?` only); default `['*.sgl_v2', '*.csv']`. */
  patterns: string[];
  /** Also list files in subfolders of the root. */
  recursive: boolean;
  /** FTP: a command or transfer that makes no progress for this long fails with `timeout`; default 30 000 ms. */
  timeoutMs: number;
}

export const DEFAULT_LOCATION_OPTIONS: Readonly<LocationOptions> = Object.freeze({
  patterns: ['*.sgl_v2', '*.csv'],
  recursive: false,
  timeoutMs: 30_000,
});
