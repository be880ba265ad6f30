import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiKeyScope, ConfiguredKey } from '../config.js';
import { Forbidden, Unauthorized } from '../errors.js';
import type { Store } from '../store/index.js';

const rank: Record<ApiKeyScope, number> = { read: 1, write: 2, admin: 3 };
const BOOTSTRAP_KEY_FILE = 'api-key';

function hash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The key a request carries: HTTP basic with the key as username (cloud-lada), or a bearer token. */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, token = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) return token || undefined;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    // some clients can only put a secret in the password: accept it there when the user is empty
    return user || (colon < 0 ? undefined : decoded.slice(colon + 1)) || undefined;
  }
  return undefined;
}

/**
 * API keys: those from settings, the generated one kept in the data directory when no key is set,
 * and those created through the API (stored hashed). Scopes nest: admin ⊇ write ⊇ read.
 */
export class ApiKeys {
  private readonly known = new Map<string, ApiKeyScope>();

  private constructor(
    private readonly store: Store,
    /** The key generated on first start, when no keys are configured. */
    readonly generatedKey: { key: string; file: string; createdNow: boolean } | undefined,
  ) {}

  static async open(options: {
    store: Store;
    configured: readonly ConfiguredKey[];
    dataDir: string;
  }): Promise<ApiKeys> {
    let generated: ApiKeys['generatedKey'];
    if (options.configured.length === 0) {
      const file = path.join(options.dataDir, BOOTSTRAP_KEY_FILE);
      let createdNow = false;
      if (!fs.existsSync(file)) {
        fs.mkdirSync(options.dataDir, { recursive: true });
        fs.writeFileSync(file, `wl_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
        createdNow = true;
      }
      generated = { key: fs.readFileSync(file, 'utf8').trim(), file, createdNow };
    }
    const keys = new ApiKeys(options.store, generated);
    for (const k of options.configured) keys.known.set(hash(k.key), k.scope);
    if (generated) keys.known.set(hash(generated.key), 'admin');
    for (const row of await options.store.query<{ key_hash: string; scope: ApiKeyScope }>(
      `SELECT key_hash, scope FROM api_keys`,
    )) {
      keys.known.set(row.key_hash, row.scope);
    }
    return keys;
  }

  /** The scope of the key in `authorization`, or a 401 with the cloud-lada wording. */
  async authenticate(authorization: string | undefined): Promise<ApiKeyScope> {
    const key = keyFromAuthorization(authorization);
    if (!key) throw new Unauthorized('no credentials provided');
    const h = hash(key);
    let scope = this.known.get(h);
    if (!scope) {
      // another process may have created it (shared store)
      const [row] = await this.store.query<{ scope: ApiKeyScope }>(`SELECT scope FROM api_keys WHERE key_hash = $1`, [
        h,
      ]);
      if (row) this.known.set(h, (scope = row.scope));
    }
    if (!scope) throw new Unauthorized('invalid api key');
    return scope;
  }

  async require(authorization: string | undefined, needed: ApiKeyScope): Promise<void> {
    const scope = await this.authenticate(authorization);
    if (rank[scope] < rank[needed]) throw new Forbidden(`this key has scope ${scope}; ${needed} is needed`);
  }

  async create(scope: ApiKeyScope, name?: string): Promise<string> {
    const key = `wl_${randomBytes(24).toString('base64url')}`;
    await this.store.transaction((tx) =>
      tx.run(`INSERT INTO api_keys (key_hash, scope, name) VALUES ($1, $2, $3)`, [hash(key), scope, name ?? null]),
    );
    this.known.set(hash(key), scope);
    return key;
  }
}
