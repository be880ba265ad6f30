#!/usr/bin/env node
// Longer fuzzing campaigns (issue 20): `npm run fuzz -- --minutes N` runs the properties of
// test/fuzz/*.fuzz.test.ts until N minutes are spent (shared between them), and writes each
// counterexample to test/fuzz/regressions/<property>-<timestamp>.json, which the test file then
// replays as a regression case in every `npm test`.
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
  env: { ...process.env, FUZZ_MINUTES: String(minutes), FUZZ_WRITE_REGRESSIONS: '1' },
});
process.exit(result.status ?? 1);
