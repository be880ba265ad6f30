import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { until } from './helpers.js';

const bin = path.join(import.meta.dirname, '..', 'bin', 'wattline.js');

export interface ServeProcess {
  child: ChildProcess;
  /** Everything the process printed on stdout so far when it was ready (its banner). */
  banner: string;
  url: string;
  /** The generated admin key, when no keys were configured. */
  key: string | undefined;
  exited: Promise<number | null>;
}

/**
 * Starts `wattline serve [args]` as a real process on free ports with `dataDir`, and waits for its
 * whole banner (written in one go, ending with the Metrics line, or the sample commands on a first
 * start). The public carbon API is off; `env` adds or overrides settings.
 */
export async function startServe(
  dataDir: string,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bin, 'serve', ...(options.args ?? [])], {
    env: {
      ...process.env,
      WATTLINE_DATA_DIR: dataDir,
      WATTLINE_HTTP_PORT: '0',
      WATTLINE_GRPC_PORT: '0',
      WATTLINE_LOG_LEVEL: 'warn',
      WATTLINE_API_KEYS: '',
      WATTLINE_REQUIRE_READ_KEY: '',
      WATTLINE_CARBON_URL: '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await until(() => /Metrics\s+\S+\n/.test(out) || child.exitCode !== null, 30_000, 'the server banner');
  } catch (err) {
    child.kill('SIGKILL'); // nobody else holds the child yet: a server that never got ready must not outlive the test
    throw err;
  }
  if (child.exitCode !== null) throw new Error(`serve exited early with ${child.exitCode}:\n${out}`);
  return {
    child,
    banner: out,
    url: /HTTP API\s+(\S+)/.exec(out)![1],
    key: /API key\s+(?!kept in)(\S+)/.exec(out)?.[1],
    exited,
  };
}
