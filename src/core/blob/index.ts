import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobStore, S3Settings } from './blob-store.js';
import { createFileBlobStore } from './file-store.js';
import { createS3BlobStore } from './s3-store.js';

export { BlobNotFound, type BlobStore, type PutResult, type S3Settings } from './blob-store.js';
export { createFileBlobStore } from './file-store.js';
export { createS3BlobStore } from './s3-store.js';

/**
 * The blob store a URL names: `''` (the `dumps` directory in the data dir), `file:///abs/dir`, or
 * `s3://bucket/prefix` (prefix optional).
 */
export function openBlobStore(url: string, options: { dataDir: string; s3: S3Settings }): BlobStore {
  if (url === '') return createFileBlobStore(path.resolve(options.dataDir, 'dumps'));

  if (url.startsWith('file:')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new Error(`invalid blob store URL "${url}": ${(err as Error).message} (expected file:///absolute/dir)`);
    }
    return createFileBlobStore(dir);
  }

  if (url.startsWith('s3:')) {
    const match = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
    if (!match) throw new Error(`invalid blob store URL "${url}": expected s3://bucket/prefix`);
    const [, bucket, rawPrefix = ''] = match;
    // Keys are `prefix + name`: no leading slash (S3 would keep it as an empty first segment), and a
    // trailing one so `s3://b/dumps` and `s3://b/dumps/` both put blobs in `dumps/`.
    const trimmed = rawPrefix.replace(/^\/+/, '').replace(/\/+$/, '');
    return createS3BlobStore(bucket, trimmed ? `${trimmed}/` : '', options.s3);
  }

  throw new Error(`unsupported blob store URL "${url}": expected file:///dir or s3://bucket/prefix`);
}
