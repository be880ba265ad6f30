import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLocationUrl, redact, seedFtpUrl } from './url.js';

test('redact hides the password and keeps the rest of the URL as written', () => {
  const check = (url: string, expected: string) => assert.equal(redact(url), expected, url);
  check('ftp://meter:s3cret@127.0.0.1:2121/loads', 'ftp://meter:***@127.0.0.1:2121/loads');
  check('ftps://meter:p%40ss%3Aw@ftp.example.com/a/b?insecure=1', 'ftps://meter:***@ftp.example.com/a/b?insecure=1');
  check('ftp://meter@ftp.example.com/', 'ftp://meter@ftp.example.com/');
  check('ftp://ftp.example.com/', 'ftp://ftp.example.com/');
  check('file:///srv/drops', 'file:///srv/drops');
  // not even a valid URL: still no password in the output
  check('ftp://meter:bad pass@@host:x/', 'ftp://meter:***@host:x/');
  // an unencoded '/', '?' or '#' in the password still stays behind the mask
  check('ftp://meter:ab/cd@host/loads', 'ftp://meter:***@host/loads');
  check('ftp://meter:a?b#c@host/loads', 'ftp://meter:***@host/loads');
});

test('percent-encoded user names and passwords are decoded for the login', () => {
  const target = parseLocationUrl('ftp://meter%40site:p%40ss%3Aw%2Fo%25rd@ftp.example.com:2121/load%20curves/');
  assert.equal(target.kind, 'ftp');
  if (target.kind !== 'ftp') return;
  assert.equal(target.user, 'meter@site');
  assert.equal(target.password, 'p@ss:w/o%rd');
  assert.equal(target.host, 'ftp.example.com');
  assert.equal(target.port, 2121);
  assert.equal(target.root, '/load curves');
  assert.equal(target.secure, false);
  assert.equal(target.display, 'ftp://meter%40site:***@ftp.example.com:2121/load%20curves/');
});

test('ftp defaults to port 21, the root folder and an anonymous login', () => {
  const target = parseLocationUrl('ftp://ftp.example.com');
  assert.deepEqual(
    { ...target },
    {
      kind: 'ftp',
      host: 'ftp.example.com',
      port: 21,
      user: 'anonymous',
      password: 'guest',
      secure: false,
      insecure: false,
      root: '/',
      display: 'ftp://ftp.example.com',
    },
  );
});

test('ftps means explicit TLS; ?insecure=1 accepts a self-signed certificate', () => {
  const strict = parseLocationUrl('ftps://meter:pw@ftp.example.com/loads');
  const lax = parseLocationUrl('ftps://meter:pw@ftp.example.com:990/loads?insecure=1');
  assert.ok(strict.kind === 'ftp' && lax.kind === 'ftp');
  assert.deepEqual([strict.secure, strict.insecure, strict.port], [true, false, 21]);
  assert.deepEqual([lax.secure, lax.insecure, lax.port], [true, true, 990]);
});

test('a file URL names an absolute local folder', () => {
  assert.deepEqual(parseLocationUrl('file:///srv/drops/'), {
    kind: 'folder',
    root: '/srv/drops',
    display: 'file:///srv/drops/',
  });
  assert.deepEqual(parseLocationUrl('file:///srv/load%20curves'), {
    kind: 'folder',
    root: '/srv/load curves',
    display: 'file:///srv/load%20curves',
  });
});

test('an unusable URL is refused with a message naming it (redacted) and what is accepted', () => {
  const refused = (url: string, why: RegExp) =>
    assert.throws(
      () => parseLocationUrl(url),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'invalid_location_url');
        assert.match(err.message, why);
        assert.match(err.message, /accepted: ftp:\/\/user:password@host/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
      url,
    );
  refused('sftp://meter:hunter2@host/loads', /^location sftp:\/\/meter:\*\*\*@host\/loads: unsupported scheme sftp/);
  refused('http://meter:hunter2@host/', /unsupported scheme http/);
  refused('ftp://meter:hunter2@/loads', /not a URL|no host/);
  refused('ftp://meter:hunter2@host:99999/', /not a URL/);
  refused('ftp://meter:hunter2@host/?passive=0', /unknown option passive/);
  refused('ftp://meter:hunter2@host/?insecure=1', /insecure=1 only applies to ftps/);
  refused('ftps://meter:hunter2@host/?insecure=yes', /insecure must be 1 or 0/);
  refused('file://otherhost/srv/drops', /names no host/);
  refused('/srv/drops', /not a URL/);
});

test("the seed's FTP server parts make one location URL that reads back as the same login", () => {
  const seed = { host: 'ftp.sa4cps.pt', port: 21, username: '', password: '', remotePath: '/' };
  assert.equal(seedFtpUrl(seed), 'ftp://ftp.sa4cps.pt:21/');
  assert.equal(seedFtpUrl({ ...seed, host: '2001:db8::1' }), 'ftp://[2001:db8::1]:21/');
  const url = seedFtpUrl({
    host: 'ftp.sa4cps.pt',
    port: 2121,
    username: 'curvas@sa4cps',
    password: 'p@ss/w:rd#1',
    remotePath: '/SLGs/Load Curves/',
  });
  assert.equal(url, 'ftp://curvas%40sa4cps:p%40ss%2Fw%3Ard%231@ftp.sa4cps.pt:2121/SLGs/Load%20Curves');
  // and the URL reads back as the same login
  const target = parseLocationUrl(url);
  assert.ok(target.kind === 'ftp');
  assert.deepEqual(
    [target.user, target.password, target.port, target.root],
    ['curvas@sa4cps', 'p@ss/w:rd#1', 2121, '/SLGs/Load Curves'],
  );
  assert.equal(target.display, 'ftp://curvas%40sa4cps:***@ftp.sa4cps.pt:2121/SLGs/Load%20Curves');
});
