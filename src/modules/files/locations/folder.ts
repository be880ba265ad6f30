import type { Dirent } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { isHiddenOrPartial, nameMatcher, REJECTED_DIR } from './patterns.js';
import { type Location, LocationError, type LocationOptions, type RemoteFile } from './types.js';
import type { FolderTarget } from './url.js';

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** A local folder that files are dropped into (`file:///dir`). */
export class FolderLocation implements Location {
  readonly display: string;
  readonly #root: string;
  readonly #options: LocationOptions;
  readonly #matches: (name: string) => boolean;

  constructor(target: FolderTarget, options: LocationOptions) {
    this.display = target.display;
    this.#root = target.root;
    this.#options = options;
    this.#matches = nameMatcher(options.patterns);
  }

  async list(): Promise<RemoteFile[]> {
    const files: RemoteFile[] = [];
    const walk = async (relDir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(join(this.#root, relDir), { withFileTypes: true });
      } catch (err) {
        if (relDir === '') throw this.#error(err, `cannot list ${this.#root}`);
        // a subfolder removed while we walk is not worth failing the scan for
        if (errno(err) === 'ENOENT') return;
        throw this.#error(err, `cannot list ${join(this.#root, relDir)}`);
      }
      for (const entry of entries) {
        if (isHiddenOrPartial(entry.name)) continue;
        const rel = relDir ? posix.join(relDir, entry.name) : entry.name;
        if (entry.isDirectory()) {
          if (this.#options.recursive && !(relDir === '' && entry.name === REJECTED_DIR)) await walk(rel);
          continue;
        }
        if (!this.#matches(entry.name)) continue;
        try {
          // stat follows symlinks: a link to a file is listed as that file
          const stats = await stat(this.#absolute(rel));
          if (!stats.isFile()) continue;
          files.push({ path: rel, size: stats.size, modifiedMs: Math.trunc(stats.mtimeMs) });
        } catch (err) {
          // moved or deleted between readdir and stat
          if (errno(err) === 'ENOENT') continue;
          throw this.#error(err, `cannot read ${rel}`);
        }
      }
    };
    await walk('');
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async download(file: RemoteFile, toPath: string): Promise<void> {
    const partial = `${toPath}.partial`;
    try {
      await copyFile(this.#absolute(file.path), partial);
      await rename(partial, toPath);
    } catch (err) {
      await rm(partial, { force: true });
      throw this.#error(err, `cannot copy ${file.path} to ${toPath}`);
    }
  }

  async reject(file: RemoteFile): Promise<boolean> {
    const to = join(this.#root, REJECTED_DIR, ...file.path.split('/'));
    try {
      await mkdir(dirname(to), { recursive: true });
      await rename(this.#absolute(file.path), to);
    } catch (err) {
      throw this.#error(err, `cannot move ${file.path} to ${REJECTED_DIR}/`);
    }
    return true;
  }

  async close(): Promise<void> {}

  #absolute(relPath: string): string {
    const parts = relPath.split('/');
    if (parts.some((part) => part === '..' || part === '')) {
      throw new LocationError('not_found', `${this.display}: ${relPath} is not a path inside the folder`);
    }
    return join(this.#root, ...parts);
  }

  #error(err: unknown, what: string): LocationError {
    const code = errno(err);
    const problem =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'not_found'
        : code === 'EACCES' || code === 'EPERM'
          ? 'auth'
          : 'protocol';
    const why =
      code === 'ENOENT' ? 'no such file or folder' : code === 'ENOTDIR' ? 'not a folder' : (code ?? String(err));
    return new LocationError(problem, `${this.display}: ${what}: ${why}`, { cause: err });
  }
}
