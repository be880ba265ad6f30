import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { FileSystem, type FtpConnection, FtpSrv } from 'ftp-srv';

/** Rewrites what the server sends for one file (to slow it down or cut it); the path is relative to the root, '/'-separated. */
export type ReadHook = (path: string, stream: Readable) => Readable;

export interface FtpServerOptions {
  /** Local directory served as `/`. */
  root: string;
  /** Accepted logins, user name → password; anything else is refused with 530. */
  users: Record<string, string>;
  /** A fixed control port (to bring a stopped server back where clients expect it); otherwise a free one. */
  port?: number;
  onRead?: ReadHook;
  /** PEM key and certificate: the server then offers explicit TLS (`AUTH TLS`) and url() gives `ftps://`. */
  tls?: { key: string; cert: string };
}

export interface FtpTestServer {
  port: number;
  /** `ftp://user:pass@127.0.0.1:<port>/path` (`ftps://` with TLS), user and password percent-encoded. */
  url(user: string, password: string, path?: string): string;
  /** Closes the listener and every control and data connection at once, mid-transfer or not. */
  stop(): Promise<void>;
}

// bunyan's interface, as far as ftp-srv uses it: every level a no-op, so tests stay quiet
const quiet = {
  child: () => quiet,
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  fatal: () => {},
};

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/** The parts of ftp-srv's connection we reach into to close sockets it would only `end()`. */
interface Internals {
  connections: Record<
    string,
    { commandSocket?: Socket; connector?: { dataSocket?: Socket | null; dataServer?: { close(): void } | null } }
  >;
  server: { on(event: 'connection', listener: (socket: Socket) => void): void };
}

class HookedFileSystem extends FileSystem {
  constructor(
    connection: FtpConnection,
    root: string,
    private readonly hook: ReadHook,
  ) {
    super(connection, { root, cwd: '/' });
  }

  override async read(
    fileName: string,
    options?: { start?: number },
  ): Promise<{ stream: Readable; clientPath: string }> {
    const { stream, clientPath } = (await super.read(fileName, options)) as { stream: Readable; clientPath: string };
    return { stream: this.hook(clientPath.replace(/^\/+/, ''), stream), clientPath };
  }
}

const randomPort = () => 20_000 + Math.floor(Math.random() * 40_000);

/**
 * A real FTP server (ftp-srv) on 127.0.0.1 serving `root`, with passive ports in a random range of its
 * own. ftp-srv cannot listen on port 0, so a random high port is tried until one is free. ftp-srv
 * also hooks SIGINT/SIGTERM/SIGQUIT to exit the process; stop() removes those hooks again.
 */
export async function startFtpServer(options: FtpServerOptions): Promise<FtpTestServer> {
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? randomPort();
    const pasvMin = randomPort();
    const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
    const server = new FtpSrv({
      url: `ftp://127.0.0.1:${port}`,
      pasv_url: '127.0.0.1',
      pasv_min: pasvMin,
      pasv_max: pasvMin + 99,
      anonymous: false,
      tls: options.tls ?? false,
      log: quiet,
    });
    const unhookSignals = () => {
      for (const signal of SIGNALS) {
        for (const listener of process.listeners(signal)) {
          if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
        }
      }
    };
    const internals = server as unknown as Internals;
    const sockets = new Set<Socket>();
    internals.server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.on('login', ({ connection, username, password }, resolve, reject) => {
      if (!Object.hasOwn(options.users, username) || options.users[username] !== password) {
        reject(new Error('Authentication failed'));
        return;
      }
      resolve(
        options.onRead
          ? { fs: new HookedFileSystem(connection, options.root, options.onRead) }
          : { root: options.root },
      );
    });
    try {
      await server.listen();
    } catch (err) {
      unhookSignals();
      await server.close().catch(() => {});
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (inUse && options.port === undefined && attempt < 20) continue;
      throw err;
    }
    return {
      port,
      url: (user, password, path = '/') =>
        `${options.tls ? 'ftps' : 'ftp'}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
      async stop() {
        // ftp-srv ends data sockets gracefully (a half-sent file would look complete); destroy them instead
        for (const connection of Object.values(internals.connections)) {
          connection.connector?.dataSocket?.destroy();
          connection.connector?.dataServer?.close();
          connection.commandSocket?.destroy();
        }
        for (const socket of sockets) socket.destroy();
        await server.close();
        unhookSignals();
      },
    };
  }
}
