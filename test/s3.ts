import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import S3rver from 's3rver';
import { openBlobStore, type BlobStore, type S3Settings } from '../src/core/blob/index.js';
import { tempDir } from './helpers.js';

export const BUCKET = 'wattline-test';

/** One request the S3 server answered, e.g. `PUT /wattline-test/dumps/daily/x?partNumber=2&uploadId=… 200`. */
export type Logged = { method: string; url: string; status: number };

/**
 * An S3-compatible server (s3rver) on a free loopback port with its data in a temp dir, the log of
 * the requests it answered, and a function opening a store on it. Nothing here can reach a public
 * host: the endpoint is explicit. s3rver's own request handler is mounted on our server (its
 * documented `callback()`) so the test can see which S3 calls were made.
 */
export async function s3rver(
  t: TestContext,
): Promise<{ open: (url: string) => BlobStore; log: Logged[]; s3: S3Settings }> {
  const dir = tempDir('wattline-s3rver-');
  const s3rver = new S3rver({ silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  await s3rver.configureBuckets();
  const log: Logged[] = [];
  const handle = s3rver.callback();
  const server = http.createServer((req, res) => {
    res.on('finish', () => log.push({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode }));
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const { port } = server.address() as AddressInfo;
  const s3 = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  };
  return { open: (url) => openBlobStore(url, { dataDir: dir, s3 }), log, s3 };
}
