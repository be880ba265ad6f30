import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { tempDir, until } from './helpers.js';

const run = promisify(execFile);
const PG_BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const NATS_SERVER = process.env.TEST_NATS_SERVER ?? '/usr/sbin/nats-server';
const MOSQUITTO = process.env.TEST_MOSQUITTO ?? '/usr/sbin/mosquitto';

/** A private server a test may stop and start again without disturbing anything else. */
export interface PrivateService {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True when the binaries to run a private cluster are here (and, for PostgreSQL, we may become `postgres`). */
export function canRunPrivate(kind: 'postgres' | 'nats' | 'mosquitto'): boolean {
  if (kind === 'nats') return fs.existsSync(NATS_SERVER);
  if (kind === 'mosquitto') return fs.existsSync(MOSQUITTO);
  return fs.existsSync(path.join(PG_BIN, 'pg_ctl')) && process.getuid?.() === 0;
}

/**
 * A PostgreSQL cluster of its own in a temp dir, on a free port, run as the `postgres` user (as
 * root we may not run it as ourselves); database `postgres`, trust auth. Removed when the test ends.
 */
export async function privatePostgres(t: TestContext): Promise<PrivateService> {
  const dir = tempDir('wattline-pg-');
  fs.chownSync(dir, ...(await ids('postgres')));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asPostgres = (bin: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args], { cwd: dir });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (args: string[]) => asPostgres('pg_ctl', ['-D', data, '-w', '-l', path.join(dir, 'log'), ...args]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const service: PrivateService = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => void (await ctl(['stop', '-m', 'fast'])),
    start: async () => void (await ctl(['start', '-o', options])),
  };
  await service.start();
  t.after(async () => {
    await ctl(['stop', '-m', 'immediate']).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return service;
}

/** A JetStream nats-server of its own, on a free port with a temp store dir kept across restarts. */
export async function privateNats(t: TestContext): Promise<PrivateService> {
  const dir = tempDir('wattline-nats-');
  const port = await freePort();
  return childProcessService(t, {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    command: NATS_SERVER,
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
  });
}

/**
 * A Mosquitto broker of its own on a free port, keeping sessions and queued messages in a temp dir
 * across a stop (SIGTERM: it saves them) and a start, as a broker restarted by its operator does.
 */
export async function privateMosquitto(t: TestContext): Promise<PrivateService> {
  const dir = tempDir('wattline-mosquitto-');
  const port = await freePort();
  const config = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // as root it would switch to the mosquitto user, which may not write the temp dir
      'user root',
    ].join('\n'),
  );
  return childProcessService(t, {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    command: MOSQUITTO,
    args: ['-c', config],
  });
}

/** A server run as a child process on `port`, its data in `dir`: stopped with SIGTERM, started again as it was. */
async function childProcessService(
  t: TestContext,
  options: { url: string; port: number; dir: string; command: string; args: string[] },
): Promise<PrivateService> {
  let child: ChildProcess | undefined;
  const service: PrivateService = {
    url: options.url,
    async start() {
      child = spawn(options.command, options.args, { stdio: 'ignore' });
      await until(() => portAnswers(options.port), 10_000, `the private ${path.basename(options.command)} to listen`);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      await exited;
    },
  };
  await service.start();
  t.after(async () => {
    await service.stop();
    fs.rmSync(options.dir, { recursive: true, force: true });
  });
  return service;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function ids(user: string): Promise<[number, number]> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return [Number(uid), Number(gid)];
}
