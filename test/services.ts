import net from 'node:net';
import type { TestContext } from 'node:test';

/** Local services the integration tests use, at their standard ports (override with env). */
export const services = {
  postgres: {
    url: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    host: '127.0.0.1',
    port: 5432,
  },
  nats: { url: process.env.TEST_BUS_URL ?? 'nats://127.0.0.1:4222', host: '127.0.0.1', port: 4222 },
  mosquitto: { url: process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883', host: '127.0.0.1', port: 1883 },
} as const;

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * True when the service answers. Otherwise the test is skipped with the reason — or, with
 * REQUIRE_SERVICES=1 (as in CI), fails, so a missing service never passes silently.
 */
export async function needService(t: TestContext, name: keyof typeof services): Promise<boolean> {
  const s = services[name];
  if (await reachable(s.host, s.port)) return true;
  const reason = `${name} is not reachable on ${s.host}:${s.port}`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${reason} (REQUIRE_SERVICES=1)`);
  t.skip(reason);
  return false;
}
