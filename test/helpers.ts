import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { loadConfig } from '../src/config.js';
import pg from 'pg';
import { type StartOptions, startWattline, type Wattline } from '../src/main.js';
import { needService, services } from './services.js';

export function tempDir(prefix = 'wattline-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// biome-ignore lint/suspicious/noExplicitAny: a test reads reply bodies field by field and asserts on them
type ReplyBody = any;

export interface TestApp {
  app: Wattline;
  url: string;
  key: string;
  dataDir: string;
  /** `fetch` against the app with the admin key (override with headers.authorization). */
  request(pathname: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: ReplyBody }>;
  ingest(
    lines: (string | object)[] | string,
    contentType?: string,
  ): Promise<{ status: number; headers: Headers; body: ReplyBody }>;
}

/** Starts the app on its own temp data dir and a free port (`start`: a clock, say); closes it when the test ends. */
export async function build(
  t: TestContext,
  overrides: Record<string, unknown> = {},
  dataDir = tempDir(),
  /** Start options, e.g. `{ now }`: the clock modules read. */
  options: StartOptions = {},
): Promise<TestApp> {
  const config = loadConfig({
    overrides: { dataDir, httpPort: 0, grpcPort: 0, logLevel: 'silent', 'carbon.url': '', ...overrides },
  });
  const app = await startWattline(config, options);
  t.after(async () => {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const key = app.ctx.keys.generatedKey?.key ?? '';
  const request = async (pathname: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization') && key) headers.set('authorization', `Bearer ${key}`);
    const response = await fetch(app.url + pathname, { ...init, headers });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep text
    }
    return { status: response.status, headers: response.headers, body };
  };
  return {
    app,
    url: app.url,
    key,
    dataDir,
    request,
    ingest: (lines, contentType = 'application/x-ndjson') =>
      request('/ingest', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body:
          typeof lines === 'string'
            ? lines
            : lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n',
      }),
  };
}

/** Waits for a condition with a deadline instead of sleeping. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  /** What is waited for; a function is asked at the timeout (to say what was seen last). */
  what: string | (() => string) = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sampleFile = (name: string) => path.join(import.meta.dirname, '..', 'samples', name);

/** A PostgreSQL schema name no other test (or test process) uses. */
export function uniqueSchema(prefix = 'wattline_test'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

/** Drops a test's PostgreSQL schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: services.postgres.url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/** The store/bus combinations a test body runs against: embedded (DuckDB), server (PostgreSQL). */
export const MODES = ['embedded', 'postgres'] as const;
export type Mode = (typeof MODES)[number];

/**
 * `build` in the given mode. Server mode gets its own PostgreSQL schema, dropped afterwards.
 * Undefined when the mode's services are missing (the test is then skipped with the reason).
 */
export async function buildMode(
  t: TestContext,
  mode: Mode,
  overrides: Record<string, unknown> = {},
  options: StartOptions = {},
): Promise<TestApp | undefined> {
  if (mode === 'embedded') return build(t, overrides, undefined, options);
  if (!(await needService(t, 'postgres'))) return undefined;
  const schema = uniqueSchema();
  t.after(() => dropSchema(schema));
  return build(t, { databaseUrl: services.postgres.url, 'store.schema': schema, ...overrides }, undefined, options);
}

/** A raw TCP connection to the app, for clients no HTTP library would be: what the server wrote so far, and whether it closed the connection. */
export function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const state = { text: '', closed: false };
  socket.on('data', (d: Buffer) => (state.text += d.toString('utf8')));
  socket.on('error', () => undefined);
  socket.on('close', () => (state.closed = true));
  return {
    socket,
    state,
    /** Waits for the server to close the connection; if it never does, closes it (so the app can close). */
    closedByServer: () =>
      until(() => state.closed, 10_000, 'the server to close the connection').catch((err) => {
        socket.destroy();
        throw err;
      }),
    status: () => Number(/^HTTP\/1\.1 (\d{3})/.exec(state.text)?.[1] ?? 0),
    body: () => JSON.parse(state.text.slice(state.text.indexOf('\r\n\r\n') + 4)),
  };
}

/** Sends `body` as JSON with the admin key and expects 200 or 201 (the assertion names the path and answer). */
export async function sendJson(w: TestApp, method: string, path: string, body: unknown) {
  const r = await w.request(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(r.status === 200 || r.status === 201, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
