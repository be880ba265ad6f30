import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHttpClient, type HttpClient } from './http-client.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { stackServerEnv, type Stack } from './server-stack.js';

/**
 * Runs `fn` with a fresh temp data directory and the environment that puts a server on `stack`
 * (its own PostgreSQL schema and JetStream streams), then removes all of them, whether `fn`
 * succeeded or not. After a failure a failed cleanup is only reported: the failure is what matters.
 */
export async function withStackDataDir<T>(
  stack: Stack,
  fn: (dataDir: string, env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wattline-bench-'));
  const stackEnv = stackServerEnv(stack);
  const cleanup = async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await stackEnv.cleanup();
  };
  let result: T;
  try {
    result = await fn(dataDir, stackEnv.env);
  } catch (err) {
    // a cleanup failure must not hide the error that failed the benchmark
    await cleanup().catch((cleanupError: Error) => console.error(cleanupError.message));
    throw err;
  }
  await cleanup();
  return result;
}

/** Runs `fn` against a server process on `dataDir` and a client of it; both are closed afterwards, whatever happens. */
export async function withServerProcess<T>(
  options: { dataDir: string; env: NodeJS.ProcessEnv; cpuProfDir?: string },
  fn: (server: ServerProcess, client: HttpClient) => Promise<T>,
): Promise<T> {
  const server = await startServerProcess(options);
  const client = createHttpClient(server.url);
  try {
    const result = await fn(server, client);
    client.close();
    await server.close();
    return result;
  } catch (err) {
    client.close();
    await server.close().catch(() => undefined);
    throw err;
  }
}
