import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BlobNotFound, createFileBlobStore, openBlobStore, type S3Settings } from './index.js';

const s3: S3Settings = {
  endpoint: '',
  region: 'us-east-1',
  accessKeyId: '',
  secretAccessKey: '',
  forcePathStyle: true,
};

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-blob-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A body that sends `good` and then fails, as a dump whose query breaks half way would. */
function failingBody(good: string): Readable {
  return Readable.from(
    (async function* () {
      yield Buffer.from(good);
      await new Promise((r) => setImmediate(r));
      throw new Error('source broke');
    })(),
  );
}

test('a blob written is read back as written, with its size and URL', async (t) => {
  const dir = path.join(tempDir(t), 'not', 'yet', 'there');
  const store = createFileBlobStore(dir);
  const body = 'a'.repeat(100_000) + '\nlast line\n';
  const result = await store.put('2026-03-29.json.gz', Readable.from([body.slice(0, 40_000), body.slice(40_000)]));
  assert.deepEqual(result, {
    name: '2026-03-29.json.gz',
    url: pathToFileURL(path.join(dir, '2026-03-29.json.gz')).href,
    bytes: body.length,
  });
  assert.equal(store.url, pathToFileURL(dir).href);
  assert.equal(await text(await store.get('2026-03-29.json.gz')), body);
  assert.deepEqual(await store.list(), ['2026-03-29.json.gz']);
});

test('writing a name again replaces the blob', async (t) => {
  const store = createFileBlobStore(tempDir(t));
  await store.put('day.csv', Readable.from(['old contents, longer than the new']));
  await store.put('day.csv', Readable.from(['new']));
  assert.equal(await text(await store.get('day.csv')), 'new');
  assert.equal((await store.put('day.csv', Readable.from([]))).bytes, 0, 'an empty body is a blob too');
  assert.equal(await text(await store.get('day.csv')), '');
  assert.deepEqual(await store.list(), ['day.csv']);
});

test('a body that fails half way keeps the previous blob and leaves no temporary file', async (t) => {
  const dir = tempDir(t);
  const store = createFileBlobStore(dir);
  await store.put('day.csv', Readable.from(['the good version']));
  await assert.rejects(store.put('day.csv', failingBody('half of a new ver')), /source broke/);
  await assert.rejects(store.put('other.csv', failingBody('half')), /source broke/);
  assert.equal(await text(await store.get('day.csv')), 'the good version');
  assert.deepEqual(fs.readdirSync(dir), ['day.csv']);
  await assert.rejects(store.get('other.csv'), BlobNotFound);
});

test('a temporary file a dead writer left is removed by the next write of that name; a live one is kept', async (t) => {
  const dir = tempDir(t);
  const store = createFileBlobStore(dir);
  const dead = path.join(dir, '.2026-03-29.json.gz.4242-abcdef.part');
  const live = path.join(dir, '.2026-03-29.json.gz.4343-abcdef.part');
  const other = path.join(dir, '.2026-03-30.json.gz.4242-abcdef.part');
  for (const f of [dead, live, other]) fs.writeFileSync(f, 'half');
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  fs.utimesSync(dead, twoHoursAgo, twoHoursAgo);
  fs.utimesSync(other, twoHoursAgo, twoHoursAgo);
  await store.put('2026-03-29.json.gz', Readable.from(['whole']));
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    '.2026-03-29.json.gz.4343-abcdef.part',
    '.2026-03-30.json.gz.4242-abcdef.part',
    '2026-03-29.json.gz',
  ]);
});

test('list leaves out temporary files and directories, and is sorted', async (t) => {
  const dir = tempDir(t);
  const store = createFileBlobStore(dir);
  assert.deepEqual(await store.list(), [], 'a missing directory holds no blobs');
  await store.put('b.json.gz', Readable.from(['b']));
  await store.put('a.json.gz', Readable.from(['a']));
  fs.writeFileSync(path.join(dir, '.c.json.gz.123-abc.part'), 'partial');
  fs.mkdirSync(path.join(dir, 'subdir'));
  assert.deepEqual(await store.list(), ['a.json.gz', 'b.json.gz']);
});

test('reading a missing blob rejects with BlobNotFound naming it', async (t) => {
  const store = createFileBlobStore(tempDir(t));
  await assert.rejects(
    store.get('nope.csv'),
    (err: Error) => err instanceof BlobNotFound && err.blob === 'nope.csv' && err.message === 'no blob named nope.csv',
  );
});

test('names must be plain file names', async (t) => {
  const dir = tempDir(t);
  const store = createFileBlobStore(path.join(dir, 'store'));
  for (const name of ['', '.', '..', '../escape', 'a/b', 'a\\b', '.hidden']) {
    await assert.rejects(store.put(name, Readable.from(['x'])), /invalid blob name/, `put ${JSON.stringify(name)}`);
    await assert.rejects(store.get(name), /invalid blob name/, `get ${JSON.stringify(name)}`);
  }
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing written anywhere');
});

test('openBlobStore: empty is <dataDir>/dumps, file:/// a directory, s3:// a bucket, others an error', async (t) => {
  const dataDir = tempDir(t);
  const dumps = openBlobStore('', { dataDir: path.relative(process.cwd(), dataDir), s3 });
  assert.equal(dumps.url, pathToFileURL(path.join(dataDir, 'dumps')).href, 'resolved to an absolute path');
  await dumps.put('x.csv', Readable.from(['x']));
  assert.ok(fs.existsSync(path.join(dataDir, 'dumps', 'x.csv')));

  const elsewhere = path.join(dataDir, 'else where');
  const file = openBlobStore(pathToFileURL(elsewhere).href, { dataDir, s3 });
  await file.put('y.csv', Readable.from(['y']));
  assert.ok(fs.existsSync(path.join(elsewhere, 'y.csv')));

  // Only the URL is checked here (nothing is sent): the S3 store itself is tested in test/blob-s3.test.ts.
  assert.equal(openBlobStore('s3://bucket', { dataDir, s3 }).url, 's3://bucket');
  assert.equal(openBlobStore('s3://bucket/', { dataDir, s3 }).url, 's3://bucket');
  assert.equal(openBlobStore('s3://bucket//dumps/daily/', { dataDir, s3 }).url, 's3://bucket/dumps/daily');

  for (const bad of ['http://example.com/dumps', '/var/dumps', 'dumps', 's3://', 'file://host/dir']) {
    assert.throws(
      () => openBlobStore(bad, { dataDir, s3 }),
      (err: Error) => err.message.includes(`"${bad}"`),
      bad,
    );
  }
});
