// Regenerates the settings table in README.md from the config schema.
import fs from 'node:fs';
import { listSettings } from '../src/config.js';
import { withSettingsTable } from '../src/core/settings-table.js';

fs.writeFileSync('README.md', withSettingsTable(fs.readFileSync('README.md', 'utf8'), listSettings()));
console.log('README.md settings table updated');
