#!/usr/bin/env node
// Longer fuzzing campaigns (issue 20): `npm run fuzz -- --minutes N` runs the properties of
// test/fuzz/*.fuzz.test.ts until about N minutes are spent (each file gets an equal share, which its
// properties share in turn; the timing checks come on top), and writes each counterexample to the
// file's folder under test/fuzz/regressions/, from which the test file replays it as a regression case
// in every `npm test` (test/fuzz/harness.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  console.error(`--minutes must be a positive number (got ${values.minutes})`);
  process.exit(2);
}
const dir = path.join('test', 'fuzz');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.fuzz.test.ts'))
  .map((f) => path.join(dir, f));

const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', ...files], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_MINUTES: String(minutes / files.length), FUZZ_WRITE_REGRESSIONS: '1' },
});
process.exit(result.status ?? 1);
