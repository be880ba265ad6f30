import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { FileRejected, parseFile, sniffFormat } from './index.js';

const OPTIONS = { zone: 'Europe/Lisbon', seriesPrefix: 'files' };
const MP = 'PT0002000012345678XY';

const header = (entity: string) => `00${entity.padEnd(20)}20240615000123`.padEnd(100);
const detail = (mp: string, hhmm: string, energy: number) =>
  `20${mp.padEnd(20)}20240615${hhmm}${String(energy).padStart(10, '0')}A`.padEnd(100);
const trailer = (count: number) => `99${'TOTAL'.padEnd(20)}${String(count).padStart(10, '0')}`.padEnd(100);
const END_TIMES = Array.from({ length: 96 }, (_, i) => {
  const m = (i + 1) * 15;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}`;
});

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-parsers-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('an ISO-8859-1 entity name keeps its ç and ã, with CRLF line ends', async (t) => {
  const file = path.join(tempDir(t), 'LC_20240615.sgl_v2');
  const lines = [header('Distribuição Açores'), detail(MP, '0015', 150), detail(MP, '0030', 250), trailer(2)];
  fs.writeFileSync(file, Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1'));
  const parsed = await parseFile(file, OPTIONS);
  assert.equal(parsed.format, 'sgl_v2');
  assert.equal(parsed.metadata.entity, 'Distribuição Açores');
  assert.deepEqual(Array.from(parsed.batches[0]!.value), [1.5, 2.5]);
});

test('the format is sniffed from the content, the .sgl_v2 extension deciding for sgl_v2', async (t) => {
  const dir = tempDir(t);
  const sgl = path.join(dir, 'drop.dat');
  fs.writeFileSync(sgl, [header('EDP'), detail(MP, '0015', 100), trailer(1)].join('\n'));
  assert.equal((await parseFile(sgl, OPTIONS)).format, 'sgl_v2');

  // UTF-8 with a BOM, which must not end up in the first column's name
  const csv = path.join(dir, 'drop.csv');
  fs.writeFileSync(csv, '\uFEFFtimestamp;Consumo (kWh)\n2024-06-15 00:15;1,5\n');
  const parsed = await parseFile(csv, OPTIONS);
  assert.equal(parsed.format, 'delimited');
  assert.deepEqual(
    parsed.series.map((s) => [s.key, s.unit]),
    [['files/Consumo_kWh', 'kWh']],
  );

  const misnamed = path.join(dir, 'drop.sgl_v2');
  fs.writeFileSync(misnamed, 'timestamp;kWh\n2024-06-15 00:15;1,5\n');
  await assert.rejects(parseFile(misnamed, OPTIONS), (err) => err instanceof FileRejected && err.line === 1);
  assert.equal(sniffFormat('x.txt', Buffer.from('time,kWh\n')), 'delimited');
});

test('a UTF-8 character split between two 64 KB reads comes out whole', async (t) => {
  const file = path.join(tempDir(t), 'split.csv');
  // comment lines pad the file so the 2-byte "é" of the last one straddles byte 65,536
  const comment = `# ${'x'.repeat(97)}\n`; // 100 bytes
  const pad = comment.repeat(655) + `# note: ${'y'.repeat(65_536 - 65_500 - 8 - 1)}`;
  const text = `${pad}é café\ntimestamp;kWh\n2024-06-15 00:15;1,5\n`;
  assert.equal(Buffer.byteLength(pad), 65_535, 'the é starts on the last byte of the first read');
  fs.writeFileSync(file, text);
  const parsed = await parseFile(file, OPTIONS);
  assert.equal(parsed.metadata.note, `${'y'.repeat(27)}é café`);
  assert.deepEqual(Array.from(parsed.batches[0]!.value), [1.5]);
});

test('a 50 MB sgl_v2 file is read in a stream: RSS grows by well under 50 MB', async (t) => {
  const file = path.join(tempDir(t), 'big.sgl_v2');
  const meters = 5410; // × 96 records × 101 bytes ≈ 52.5 MB
  const out = fs.createWriteStream(file, { encoding: 'latin1' });
  out.write(`${header('Big Load Curves')}\n`);
  for (let m = 0; m < meters; m++) {
    const mp = `PT${String(m).padStart(16, '0')}AB`;
    let chunk = '';
    for (let i = 0; i < 96; i++) chunk += `${detail(mp, END_TIMES[i]!, (m % 7) * 100 + i)}\n`;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end(`${trailer(meters * 96)}\n`);
  await once(out, 'finish');
  assert.ok(fs.statSync(file).size >= 50 * 1024 * 1024, 'the file is at least 50 MiB');

  const before = process.memoryUsage().rss;
  const parsed = await parseFile(file, OPTIONS);
  const growth = process.memoryUsage().rss - before;

  assert.equal(parsed.rows, meters * 96);
  assert.equal(parsed.series.length, meters);
  assert.equal(parsed.batches.length, 1, 'one batch, sized from the file: no parts to join before the store');
  assert.equal(
    parsed.batches.reduce((n, b) => n + b.length, 0),
    meters * 96,
  );
  // the last reading: the last meter's 23:45–24:00 local interval, (5409 % 7 = 5) + 0.95 kWh
  const last = parsed.batches.at(-1)!;
  assert.equal(last.keys[last.keyIndex[last.length - 1]!], `files/PT${String(meters - 1).padStart(16, '0')}AB`);
  assert.equal(last.ts[last.length - 1], Date.parse('2024-06-15T22:45:00Z'));
  assert.equal(last.value[last.length - 1], 5.95);
  t.diagnostic(`RSS grew by ${Math.round(growth / 1024 / 1024)} MB`);
  assert.ok(growth < 50 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1024 / 1024)} MB`);
});
