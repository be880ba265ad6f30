import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { finished } from 'node:stream/promises';
import { Client, type FileInfo, FTPError } from 'basic-ftp';
import { isHiddenOrPartial, nameMatcher, REJECTED_DIR } from './patterns.js';
import { type Location, LocationError, type LocationOptions, type LocationProblem, type RemoteFile } from './types.js';
import type { FtpTarget } from './url.js';
import { UNREACHABLE_CODES } from '../../../core/net-errors.js';

// An open connection went away under us
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * An FTP or explicit-FTPS directory, read with basic-ftp in passive mode. One control connection,
 * opened on first use and reopened after any failure; calls are queued because an FTP session runs
 * one command at a time.
 */
export class FtpLocation implements Location {
  readonly display: string;
  readonly #target: FtpTarget;
  readonly #options: LocationOptions;
  readonly #matches: (name: string) => boolean;
  #client: Client | undefined;
  /** Servers without MDTM (RFC 3659) answer an error once; we stop asking on that connection. */
  #mdtm = true;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(target: FtpTarget, options: LocationOptions) {
    this.display = target.display;
    this.#target = target;
    this.#options = options;
    this.#matches = nameMatcher(options.patterns);
  }

  list(): Promise<RemoteFile[]> {
    return this.#serialised(async () => {
      const client = await this.#connected();
      try {
        // CWD first: a missing root is then a clear 550, whatever the server answers to a LIST of nothing
        await client.cd(this.#target.root);
      } catch (err) {
        if (err instanceof FTPError && err.code >= 500) {
          throw this.#fail(err, 'not_found', `remote folder ${this.#target.root} not found (${err.message})`);
        }
        throw this.#failed(err, `cannot open remote folder ${this.#target.root}`);
      }
      const files: RemoteFile[] = [];
      const walk = async (relDir: string): Promise<void> => {
        let entries: FileInfo[];
        try {
          entries = await client.list(this.#remote(relDir));
        } catch (err) {
          throw this.#failed(err, `cannot list ${this.#remote(relDir)}`);
        }
        for (const entry of entries) {
          if (entry.name === '.' || entry.name === '..' || isHiddenOrPartial(entry.name)) continue;
          const rel = relDir ? posix.join(relDir, entry.name) : entry.name;
          if (entry.isDirectory) {
            if (this.#options.recursive && !(relDir === '' && entry.name === REJECTED_DIR)) await walk(rel);
            continue;
          }
          // symbolic links report the link's own size; a utility's drop box has no business with them
          if (!entry.isFile) continue;
          if (!this.#matches(entry.name)) continue;
          const modifiedMs = entry.modifiedAt?.getTime() ?? (await this.#lastModified(client, rel));
          files.push({ path: rel, size: entry.size, modifiedMs: Number.isFinite(modifiedMs) ? modifiedMs : null });
        }
      };
      await walk('');
      return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    });
  }

  download(file: RemoteFile, toPath: string): Promise<void> {
    return this.#serialised(async () => {
      const client = await this.#connected();
      const remotePath = this.#remote(file.path);
      const partial = `${toPath}.partial`;
      try {
        const out = createWriteStream(partial);
        try {
          await client.downloadTo(out, remotePath);
        } finally {
          // basic-ftp ends the stream but does not wait for it to reach the disk
          out.end();
          await finished(out).catch(() => {});
        }
        const { size } = await stat(partial);
        if (Number.isFinite(file.size) && file.size >= 0 && size !== file.size) {
          throw new LocationError(
            'unreachable',
            `${this.display}: download of ${remotePath} stopped after ${size} of ${file.size} bytes (the connection dropped or the file changed)`,
          );
        }
        await rename(partial, toPath);
      } catch (err) {
        await rm(partial, { force: true });
        if (err instanceof LocationError) {
          this.#drop();
          throw err;
        }
        if (err instanceof FTPError && (err.code === 550 || err.code === 450)) {
          throw this.#fail(err, 'not_found', `${remotePath} not found (${err.message})`);
        }
        throw this.#failed(err, `cannot download ${remotePath}`);
      }
    });
  }

  async reject(_file: RemoteFile): Promise<boolean> {
    // the remote side is the utility's; we never move or delete their files
    return false;
  }

  close(): Promise<void> {
    return this.#serialised(async () => this.#drop());
  }

  #serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #connected(): Promise<Client> {
    if (this.#client && !this.#client.closed) return this.#client;
    this.#drop();
    const client = new Client(this.#options.timeoutMs);
    const { host, port, user, password, secure, insecure } = this.#target;
    try {
      await client.access({
        host,
        port,
        user,
        password,
        secure,
        secureOptions: secure ? { rejectUnauthorized: !insecure } : undefined,
      });
    } catch (err) {
      client.close();
      if (err instanceof FTPError && err.code === 530) {
        throw this.#fail(err, 'auth', `login refused (${err.message})`);
      }
      throw this.#failed(err, 'cannot connect');
    }
    this.#client = client;
    this.#mdtm = true;
    return client;
  }

  async #lastModified(client: Client, rel: string): Promise<number | null> {
    if (!this.#mdtm) return null;
    try {
      return (await client.lastMod(this.#remote(rel))).getTime();
    } catch (err) {
      if (!(err instanceof FTPError)) throw this.#failed(err, `cannot read the time of ${this.#remote(rel)}`);
      this.#mdtm = false;
      return null;
    }
  }

  #remote(rel: string): string {
    return rel ? posix.join(this.#target.root, rel) : this.#target.root;
  }

  #drop(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  /** A LocationError for whatever basic-ftp or the socket threw. */
  #failed(err: unknown, what: string): LocationError {
    if (err instanceof LocationError) return err;
    if (err instanceof FTPError) {
      if (err.code === 530) return this.#fail(err, 'auth', `${what}: login refused (${err.message})`);
      return this.#fail(err, 'protocol', `${what}: server answered ${err.message}`);
    }
    const code = (err as NodeJS.ErrnoException).code;
    const message = err instanceof Error ? err.message : String(err);
    if (code && UNREACHABLE_CODES.has(code)) {
      return this.#fail(err, 'unreachable', `${what}: unreachable ${this.#target.host}:${this.#target.port} (${code})`);
    }
    if (message.startsWith('Timeout')) {
      return this.#fail(err, 'timeout', `${what}: no answer within ${this.#options.timeoutMs} ms (${message})`);
    }
    if (
      (code && DROPPED.has(code)) ||
      /closed connection unexpectedly|sent FIN packet|closed due to transmission error|User closed client/.test(message)
    ) {
      return this.#fail(err, 'unreachable', `${what}: connection dropped (${message})`);
    }
    if (code?.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(message)) {
      const hint = this.#target.insecure ? '' : '; add ?insecure=1 to accept a self-signed certificate';
      return this.#fail(err, 'protocol', `${what}: TLS failed (${message})${hint}`);
    }
    return this.#fail(err, 'protocol', `${what}: ${message}`);
  }

  #fail(err: unknown, problem: LocationProblem, why: string): LocationError {
    // a server answer is not ours to trust: it could echo what we sent
    const { password } = this.#target;
    const safe = password.length >= 3 ? why.split(password).join('***') : why;
    // basic-ftp keeps a session after a mere error reply, but a transfer cut short leaves it in
    // doubt; a fresh connection on the next call is cheap and certain
    this.#drop();
    return new LocationError(problem, `${this.display}: ${safe}`, { cause: err });
  }
}
