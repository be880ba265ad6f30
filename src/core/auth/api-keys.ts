import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApiKeyScope, ConfiguredKey } from '../config.js';
import { Conflict, Forbidden, NotFound, Unauthorized } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';

const rank: Record<ApiKeyScope, number> = { read: 1, write: 2, admin: 3 };
const BOOTSTRAP_KEY_FILE = 'api-key';

// keys stored as `hmac:` + HMAC-SHA256(secret, key) in hex; before, as bare SHA-256 in hex
const HMAC_PREFIX = 'hmac:';

function legacyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Digests compared without an early exit, so the time taken says nothing about where they differ. */
function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The key a request carries: HTTP basic with the key as username (cloud-lada), a bearer token, or
 * InfluxDB's `Token <key>`.
 */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  return keysFromAuthorization(header)[0];
}

/**
 * Every key a request may carry, the likeliest first: for HTTP basic the username (cloud-lada puts
 * the key there) and then the password (InfluxDB clients send a user name and the token as password).
 */
export function keysFromAuthorization(header: string | undefined): string[] {
  if (!header) return [];
  const [scheme, token = ''] = header.trim().split(/\s+/, 2);
  if (/^(bearer|token)$/i.test(scheme)) return token ? [token] : [];
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return [user, password].filter((k) => k !== '');
  }
  return [];
}

/** A key as `GET /api/v1/keys` lists it: never the key or its hash. */
export interface KeyInfo {
  id: string;
  /** `settings` and `generated` for the keys that do not live in the store. */
  name: string | null;
  scope: ApiKeyScope;
  /** ISO 8601; null for keys from settings. */
  created: string | null;
  /** ISO 8601, at most a minute stale; null if never used (keys outside the store: by this process). */
  lastUsed: string | null;
}

interface KnownKey {
  id: string;
  scope: ApiKeyScope;
  /** Where the key lives: only `store` keys can be revoked, and only they are re-checked. */
  source: 'settings' | 'generated' | 'store';
  checkedMs: number;
  lastUsedMs: number | null;
}

interface KeyRow {
  id: string;
  key_hash: string;
  name: string | null;
  scope: ApiKeyScope;
  created_at: unknown;
  last_used_at: unknown;
}

// last use is written to the store at most this often per key, not on every request
const LAST_USED_WRITE_MS = 60_000;

/**
 * API keys: those from settings, the generated one kept in the data directory when no key is set,
 * and those created through the API (stored hashed). Scopes nest: admin ⊇ write ⊇ read.
 * A process keeps the keys it has seen; a stored key is re-checked against the store at most every
 * `recheckS` seconds, so one revoked by another process sharing the store stops working within that.
 */
export class ApiKeys {
  private readonly known = new Map<string, KnownKey>();

  private constructor(
    private readonly secret: Buffer,
    private readonly store: Store,
    private readonly recheckMs: number,
    private readonly log: Logger | undefined,
    /** The key generated on first start, when no keys are configured. */
    readonly generatedKey: { key: string; file: string; createdNow: boolean } | undefined,
  ) {}

  static async open(options: {
    store: Store;
    configured: readonly ConfiguredKey[];
    dataDir: string;
    /** Default 30 s (setting `apiKeyRecheckS`). */
    recheckS?: number;
    log?: Logger;
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
    const keys = new ApiKeys(
      await loadSecret(options.store),
      options.store,
      (options.recheckS ?? 30) * 1000,
      options.log,
      generated,
    );
    const now = Date.now();
    for (const [i, k] of options.configured.entries()) {
      const known: KnownKey = {
        id: `settings-${i + 1}`,
        scope: k.scope,
        source: 'settings',
        checkedMs: now,
        lastUsedMs: null,
      };
      keys.known.set(keys.hash(k.key), known);
    }
    if (generated)
      keys.known.set(keys.hash(generated.key), {
        id: 'generated',
        scope: 'admin',
        source: 'generated',
        checkedMs: now,
        lastUsedMs: null,
      });
    return keys;
  }

  /** The scope of the key in `authorization`, or a 401 with the cloud-lada wording. */
  async authenticate(authorization: string | undefined): Promise<ApiKeyScope> {
    const candidates = keysFromAuthorization(authorization);
    if (!candidates.length) throw new Unauthorized('no credentials provided');
    const now = Date.now();
    let known: KnownKey | undefined;
    let h = '';
    const hashes = candidates.map((key) => this.hash(key));
    // a key known here and fresh first: an InfluxDB client's user name costs no store query
    const fresh = hashes.findIndex((x) => {
      const k = this.known.get(x);
      return k !== undefined && !(k.source === 'store' && now - k.checkedMs >= this.recheckMs);
    });
    if (fresh >= 0) {
      h = hashes[fresh];
      known = this.known.get(h);
    }
    for (let i = 0; !known && i < candidates.length; i++) {
      h = hashes[i];
      // unknown here: another process may have created it; known from the store: it may have been revoked since
      known = (await this.lookUp(h, now)) ?? (await this.rehashLegacy(candidates[i], h, now));
    }
    if (!known) throw new Unauthorized('invalid api key');
    if (known.lastUsedMs === null || now - known.lastUsedMs >= LAST_USED_WRITE_MS) {
      known.lastUsedMs = now;
      if (known.source === 'store') {
        // a failed bookkeeping write must not fail the request it was made for
        await this.store
          .transaction((tx) => tx.run(`UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1`, [h]))
          .catch((err: unknown) => this.log?.warn({ err, keyId: known?.id }, 'api key last use not recorded'));
      }
    }
    return known.scope;
  }

  /** HMAC-SHA256 of the key under this installation's secret, as stored. */
  private hash(key: string): string {
    return HMAC_PREFIX + createHmac('sha256', this.secret).update(key).digest('hex');
  }

  private async lookUp(h: string, now: number): Promise<KnownKey | undefined> {
    const [row] = await this.store.query<{ id: string; scope: ApiKeyScope; key_hash: string }>(
      `SELECT id, scope, key_hash FROM api_keys WHERE key_hash = $1`,
      [h],
    );
    if (!row || !sameDigest(row.key_hash, h)) {
      this.known.delete(h);
      return undefined;
    }
    const known: KnownKey = {
      id: row.id,
      scope: row.scope,
      source: 'store',
      checkedMs: now,
      lastUsedMs: this.known.get(h)?.lastUsedMs ?? null,
    };
    this.known.set(h, known);
    return known;
  }

  /**
   * A key stored before keyed hashing (bare SHA-256) is accepted once more and rehashed in place, so
   * existing keys keep working and each moves to HMAC on its first use; keys never used stay SHA-256.
   */
  private async rehashLegacy(key: string, h: string, now: number): Promise<KnownKey | undefined> {
    const legacy = legacyHash(key);
    const [row] = await this.store.query<{ id: string; key_hash: string }>(
      `SELECT id, key_hash FROM api_keys WHERE key_hash = $1`,
      [legacy],
    );
    if (!row || !sameDigest(row.key_hash, legacy)) return undefined;
    await this.store.transaction((tx) =>
      tx.run(`UPDATE api_keys SET key_hash = $1 WHERE id = $2 AND key_hash = $3`, [h, row.id, legacy]),
    );
    this.log?.info({ keyId: row.id }, 'api key rehashed with the installation secret');
    return this.lookUp(h, now);
  }

  /**
   * Whether this process has accepted `key` (from settings, generated, or looked up earlier): no
   * store look-up, so the rate limiter may ask it of every request.
   */
  isKnown(key: string): boolean {
    return this.known.has(this.hash(key));
  }

  async require(authorization: string | undefined, needed: ApiKeyScope): Promise<void> {
    const scope = await this.authenticate(authorization);
    if (rank[scope] < rank[needed]) throw new Forbidden(`this key has scope ${scope}; ${needed} is needed`);
  }

  async create(scope: ApiKeyScope, name?: string): Promise<string> {
    const key = `wl_${randomBytes(24).toString('base64url')}`;
    const id = `k_${randomBytes(6).toString('hex')}`;
    await this.store.transaction((tx) =>
      tx.run(`INSERT INTO api_keys (id, key_hash, scope, name) VALUES ($1, $2, $3, $4)`, [
        id,
        this.hash(key),
        scope,
        name ?? null,
      ]),
    );
    this.known.set(this.hash(key), { id, scope, source: 'store', checkedMs: Date.now(), lastUsedMs: null });
    return key;
  }

  /** Every key: those from settings and the generated one first, then the stored ones by creation. */
  async list(): Promise<KeyInfo[]> {
    const outside = [...this.known.values()]
      .filter((k) => k.source !== 'store')
      .map((k) => ({
        id: k.id,
        name: k.source,
        scope: k.scope,
        created:
          k.source === 'generated' && this.generatedKey ? isoTime(fs.statSync(this.generatedKey.file).mtime) : null,
        lastUsed: k.lastUsedMs === null ? null : new Date(k.lastUsedMs).toISOString(),
      }))
      .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    const rows = await this.store.query<KeyRow>(
      `SELECT id, key_hash, name, scope, created_at, last_used_at FROM api_keys ORDER BY created_at, id`,
    );
    return [
      ...outside,
      ...rows.map((r) => ({
        id: r.id,
        name: r.name,
        scope: r.scope,
        created: isoTime(r.created_at),
        lastUsed: isoTime(r.last_used_at),
      })),
    ];
  }

  /**
   * Revokes a stored key: it answers 401 at once in this process, and in others sharing the store
   * within `recheckS`. Keys from settings or the generated key are not revocable here (409).
   */
  async revoke(id: string): Promise<void> {
    const outside = [...this.known.values()].find((k) => k.id === id && k.source !== 'store');
    if (outside?.source === 'settings')
      throw new Conflict(
        'key_not_revocable',
        `key ${id} comes from the settings (WATTLINE_API_KEYS); remove it there and restart to revoke it`,
      );
    if (outside?.source === 'generated')
      throw new Conflict(
        'key_not_revocable',
        `key ${id} is the generated admin key kept in ${this.generatedKey?.file}; set WATTLINE_API_KEYS to replace it`,
      );
    const [row] = await this.store.query<{ key_hash: string }>(`SELECT key_hash FROM api_keys WHERE id = $1`, [id]);
    if (!row) throw new NotFound(`no API key with id ${id}`, { field: 'id' });
    await this.store.transaction((tx) => tx.run(`DELETE FROM api_keys WHERE id = $1`, [id]));
    this.known.delete(row.key_hash);
  }
}

/** The installation's secret for key hashes: made once by whichever process starts first. */
async function loadSecret(store: Store): Promise<Buffer> {
  const read = async () =>
    (await store.query<{ secret: string }>(`SELECT secret FROM api_key_secret WHERE id = 1`))[0]?.secret;
  let secret = await read();
  if (secret === undefined) {
    const made = randomBytes(32).toString('base64url');
    // another process may be making it at the same moment: the first one stored wins
    await store.transaction((tx) =>
      tx.run(`INSERT INTO api_key_secret (id, secret) VALUES (1, $1) ON CONFLICT DO NOTHING`, [made]),
    );
    secret = await read();
  }
  if (secret === undefined) throw new Error('api_key_secret is empty after it was written');
  return Buffer.from(secret, 'base64url');
}

function isoTime(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}
