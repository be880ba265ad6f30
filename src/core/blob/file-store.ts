import { randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { BlobNotFound, type BlobStore, type PutResult } from './blob-store.js';

/**
 * Blob names are plain file names, the same for every store, so a name that works on disk works
 * on S3 too. A leading dot is refused because that is how temporary files are told apart from
 * finished blobs (and how `list()` skips them).
 */
export function assertPlainName(name: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..') {
    throw new Error(`invalid blob name ${JSON.stringify(name)}: expected a plain file name such as 2026-03-29.json.gz`);
  }
  if (/[/\\\0]/.test(name)) {
    throw new Error(`invalid blob name ${JSON.stringify(name)}: must not contain "/", "\\" or NUL`);
  }
  if (name.startsWith('.')) {
    throw new Error(
      `invalid blob name ${JSON.stringify(name)}: must not start with "." (reserved for temporary files)`,
    );
  }
}

/** A blob store in a local directory (`file:///dir`), created on the first write if missing. */
export function createFileBlobStore(dir: string): BlobStore {
  const root = path.resolve(dir);
  const url = pathToFileURL(root).href;

  return {
    url,

    async put(name: string, body: Readable, _options?: { contentType?: string }): Promise<PutResult> {
      const final = path.join(root, name);
      let temp: string | undefined;
      let handle: FileHandle | undefined;
      let bytes = 0;
      try {
        assertPlainName(name);
        await fs.mkdir(root, { recursive: true });
        // Same directory as the final name, so the rename stays on one file system and is atomic.
        // The leading dot and `.part` keep it from ever looking like a finished blob.
        temp = path.join(root, `.${name}.${process.pid}-${randomBytes(6).toString('hex')}.part`);
        handle = await fs.open(temp, 'wx');
        const out = handle;
        await pipeline(body, async (source: AsyncIterable<Buffer | string>) => {
          for await (const chunk of source) {
            const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            await out.write(buffer);
            bytes += buffer.length;
          }
        });
        // The data must be on disk before the rename makes it visible, or a crash could leave a
        // complete-looking but empty or truncated blob under the final name.
        await handle.sync();
        await handle.close();
        handle = undefined;
        await fs.rename(temp, final);
        temp = undefined;
        await removeStaleTemps(root, name);
      } catch (err) {
        if (!body.destroyed) body.destroy();
        await handle?.close().catch(() => undefined);
        if (temp) await fs.rm(temp, { force: true }).catch(() => undefined);
        throw err;
      }
      await syncDir(root);
      return { name, url: pathToFileURL(final).href, bytes };
    },

    async get(name: string): Promise<Readable> {
      assertPlainName(name);
      let handle: FileHandle;
      try {
        // Opening first (rather than handing createReadStream a path) turns a missing file into
        // a rejection here instead of an error event on the stream later.
        handle = await fs.open(path.join(root, name), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFound(name);
        throw err;
      }
      return handle.createReadStream();
    },

    async list(): Promise<string[]> {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(root, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    },
  };
}

// a temporary file not written to for this long belongs to a writer that died (a kill, a crash)
const STALE_TEMP_MS = 3_600_000;

/**
 * Removes what writers of `name` that died left behind. A live writer's file is younger: every
 * chunk written touches its mtime, however long the whole blob takes.
 */
async function removeStaleTemps(root: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  const now = Date.now();
  for (const entry of await fs.readdir(root).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.part')) continue;
    const file = path.join(root, entry);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && now - stat.mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true }).catch(() => undefined);
  }
}

/**
 * Makes the rename itself durable. Best effort: some platforms (Windows) cannot fsync a
 * directory, and the blob is already complete either way.
 */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // ignore: see above
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
