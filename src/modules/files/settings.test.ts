import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../config.js';
import { watchedLocations } from './index.js';

test("the seed's FTP variables make one watched location, its password kept out of config errors", () => {
  const config = loadConfig({
    env: {
      FTP_SA4CPS_HOST: 'ftp.example.org',
      FTP_SA4CPS_PORT: '2121',
      FTP_SA4CPS_USERNAME: 'sa4cps',
      FTP_SA4CPS_PASSWORD: 'p@ss word',
      FTP_SA4CPS_REMOTE_PATH: 'SLGs/Faial #2',
      FTP_CHECK_INTERVAL: '3600',
      FTP_SKIP_INITIAL_SCAN: 'true',
    },
  });
  const [location] = watchedLocations(config.files);
  assert.equal(location.url, 'ftp://sa4cps:p%40ss%20word@ftp.example.org:2121/SLGs/Faial%20%232');
  assert.equal(location.interval_s, 3600);
  assert.equal(location.skip_initial_scan, true);
  assert.equal(location.pattern, '*.sgl_v2');
  assert.deepEqual(watchedLocations(loadConfig({ env: {} }).files), [], 'no host: no location');
  assert.throws(
    () => loadConfig({ env: { WATTLINE_FILES_LOCATIONS: '[{"url":"ftp://u:hunter2@h/x","interval_s":-1}]' } }),
    (err: Error) => !err.message.includes('hunter2') && /WATTLINE_FILES_LOCATIONS/.test(err.message),
  );
});
