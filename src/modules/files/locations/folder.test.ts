import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DEFAULT_LOCATION_OPTIONS, LocationError, openLocation } from './index.js';

function dropFolder(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-drops-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const put = (rel: string, body: string, mtimeMs = Date.UTC(2024, 2, 5, 12, 0, 0)) => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    fs.utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
  };
  put('b.sgl_v2', 'bbb');
  put('A.SGL_V2', 'a', Date.UTC(2024, 0, 1));
  put('notes.txt', 'ignored');
  put('upload.sgl_v2.partial', 'half');
  put('.hidden.csv', 'hidden');
  put('2024/03/day.csv', 'x;y\n1;2\n');
  put('rejected/old.sgl_v2', 'rejected before');
  return dir;
}

test('a folder lists matching files with their sizes and times, skipping rejected/, dotfiles and .partial', async (t) => {
  const dir = dropFolder(t);
  const flat = openLocation(pathToFileURL(dir).href, { ...DEFAULT_LOCATION_OPTIONS, recursive: false });
  assert.deepEqual(await flat.list(), [
    { path: 'A.SGL_V2', size: 1, modifiedMs: Date.UTC(2024, 0, 1) },
    { path: 'b.sgl_v2', size: 3, modifiedMs: Date.UTC(2024, 2, 5, 12) },
  ]);
  const deep = openLocation(pathToFileURL(dir).href, { ...DEFAULT_LOCATION_OPTIONS, recursive: true });
  assert.deepEqual(
    (await deep.list()).map((file) => [file.path, file.size]),
    [
      ['2024/03/day.csv', 8],
      ['A.SGL_V2', 1],
      ['b.sgl_v2', 3],
    ],
  );
  const onlyCsv = openLocation(pathToFileURL(dir).href, { patterns: ['*.CSV'], recursive: true, timeoutMs: 1000 });
  assert.deepEqual(
    (await onlyCsv.list()).map((file) => file.path),
    ['2024/03/day.csv'],
  );
});

test('a folder download copies the file byte for byte', async (t) => {
  const dir = dropFolder(t);
  const location = openLocation(pathToFileURL(dir).href, { ...DEFAULT_LOCATION_OPTIONS, recursive: true });
  const [file] = await location.list();
  const to = path.join(dir, '..', `${path.basename(dir)}-copy.csv`);
  t.after(() => fs.rmSync(to, { force: true }));
  await location.download(file, to);
  assert.equal(fs.readFileSync(to, 'utf8'), 'x;y\n1;2\n');
  assert.equal(fs.existsSync(`${to}.partial`), false);
});

test('reject() moves a file into rejected/ keeping its subfolders, and it is not listed again', async (t) => {
  const dir = dropFolder(t);
  const location = openLocation(pathToFileURL(dir).href, { ...DEFAULT_LOCATION_OPTIONS, recursive: true });
  const day = (await location.list()).find((file) => file.path === '2024/03/day.csv')!;
  assert.equal(await location.reject(day), true);
  assert.equal(fs.existsSync(path.join(dir, '2024/03/day.csv')), false);
  assert.equal(fs.readFileSync(path.join(dir, 'rejected/2024/03/day.csv'), 'utf8'), 'x;y\n1;2\n');
  assert.deepEqual(
    (await location.list()).map((file) => file.path),
    ['A.SGL_V2', 'b.sgl_v2'],
  );
});

test('a missing folder is not_found, naming the folder', async () => {
  const missing = path.join(os.tmpdir(), 'wattline-no-such-drops', 'x');
  const location = openLocation(pathToFileURL(missing).href, DEFAULT_LOCATION_OPTIONS);
  await assert.rejects(location.list(), (err: LocationError) => {
    assert.ok(err instanceof LocationError);
    assert.equal(err.problem, 'not_found');
    assert.ok(err.message.includes(missing), err.message);
    return true;
  });
});

test('downloading a file that vanished since the listing is not_found and leaves nothing behind', async (t) => {
  const dir = dropFolder(t);
  const location = openLocation(pathToFileURL(dir).href, DEFAULT_LOCATION_OPTIONS);
  const [file] = await location.list();
  fs.rmSync(path.join(dir, file.path));
  const to = path.join(dir, 'copy.sgl_v2');
  await assert.rejects(location.download(file, to), { name: 'LocationError', problem: 'not_found' });
  assert.deepEqual(
    fs.readdirSync(dir).filter((name) => name.startsWith('copy')),
    [],
  );
});
