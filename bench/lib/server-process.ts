import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverScript = path.join(repoRoot, 'bench', 'lib', 'server.ts');
const START_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 60_000;
const COMPACT_TIMEOUT_MS = 600_000;

export interface ServerProcess {
  url: string;
  /** `host:port` of its gRPC server (the bench environment asks for a free port). */
  grpcUrl?: string;
  /** The admin key the server generated in its fresh data directory. */
  key: string;
  pid: number;
  /** Compacts every partition now; resolves once the server says it is done. */
  compact(): Promise<void>;
  /** Asks the server to close and waits for it to exit (killed if it does not, in time). */
  close(): Promise<void>;
}

/**
 * Starts `bench/lib/server.ts` as a child process on `dataDir`, with `env` as its environment
 * (default: this process's), which is how `DATABASE_URL`, `BUS_URL` and `WATTLINE_*` reach it.
 * With `cpuProfDir` the child runs under `--cpu-prof` and writes its profile there when it exits.
 * `roles` (default: all) are the roles it plays, as `wattline serve --roles` takes them.
 */
export async function startServerProcess(options: {
  dataDir: string;
  cpuProfDir?: string;
  env?: NodeJS.ProcessEnv;
  roles?: readonly string[];
}): Promise<ServerProcess> {
  const profiling = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const roles = options.roles ? [options.roles.join(',')] : [];
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', serverScript, options.dataDir, ...roles], {
    cwd: repoRoot,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let running = true;
  // how the child ended: `code 0`, `code 1`, `signal SIGKILL`
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ? `signal ${signal}` : `code ${code}`);
    }),
  );
  // a dead child shows up as its exit, not as EPIPE on a command written to it
  child.stdin.on('error', () => undefined);
  const lines = readline.createInterface({ input: child.stdout });
  const pending: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  const buffered: string[] = [];
  lines.on('line', (line) => {
    const waiter = pending.shift();
    if (waiter) waiter.resolve(line);
    else buffered.push(line);
  });
  // an unexpected exit rejects whoever is waiting for a line
  void exited.then((how) => {
    for (const waiter of pending.splice(0)) waiter.reject(new Error(`server process exited with ${how}`));
  });
  const nextLine = (timeoutMs: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      const line = buffered.shift();
      if (line !== undefined) return resolve(line);
      if (!running)
        return reject(
          new Error(
            `server process exited with ${child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`}`,
          ),
        );
      const timer = setTimeout(
        () => reject(new Error(`server process did not ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      pending.push({
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (!running) return;
      child.stdin.end('close\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      const how = await exited;
      clearTimeout(timer);
      if (how !== 'code 0') throw new Error(`server process ${child.pid} exited with ${how} on close`);
    })());

  try {
    const ready = JSON.parse(await nextLine(START_TIMEOUT_MS, 'start')) as {
      url?: string;
      grpcUrl?: string;
      key?: string;
    };
    if (!ready.url || !ready.key) throw new Error(`server process printed no url and key: ${JSON.stringify(ready)}`);
    return {
      url: ready.url,
      grpcUrl: ready.grpcUrl,
      key: ready.key,
      pid: child.pid!,
      async compact() {
        child.stdin.write('compact\n');
        const answer = await nextLine(COMPACT_TIMEOUT_MS, 'compact');
        if (answer !== 'compacted') throw new Error(`server process answered ${JSON.stringify(answer)} to compact`);
      },
      close,
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
