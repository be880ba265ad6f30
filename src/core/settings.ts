import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';

/**
 * The settings machinery every module's `settings.ts` uses. A module's settings are a zod object
 * whose keys are its areas (`ingest`, `dumps`, …); `src/config.ts` composes core's and every
 * module's into one schema. A YAML path maps to an environment variable:
 * `ingest.batchSize` ↔ `WATTLINE_INGEST_BATCH_SIZE`; core settings have no area (`httpPort` ↔
 * `WATTLINE_HTTP_PORT`). The environment wins over YAML. The README's settings table is generated
 * from the composed schema (`npm run docs:settings`), and a test catches drift.
 */

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off', '']);

/** A boolean setting that also takes 1/0, yes/no, on/off from the environment. */
export const flag = (defaultValue: boolean, doc: string) =>
  z
    .preprocess(
      (v) => {
        if (typeof v !== 'string') return v;
        const s = v.trim().toLowerCase();
        return truthy.has(s) ? true : falsy.has(s) ? false : v;
      },
      z.boolean({ error: 'expected one of 1, 0, true, false, yes, no, on, off' }),
    )
    .default(defaultValue)
    .describe(doc);

/** A whole-number setting within [min, max]. */
export const int = (defaultValue: number, min: number, max: number, doc: string) =>
  z.coerce
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` })
    .default(defaultValue)
    .describe(doc);

/** A list setting: a list in YAML, JSON text in the environment (`[{"url":"…"}]`). */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value; // zod names it: not a list
    }
  }, z.array(item));

/** A module's settings: its areas, each a zod object (or a core setting's leaf). */
export type SettingsSchema = z.ZodObject;

/** Settings that moved: old YAML path → new path. The old path and its environment variable still work. */
export type RenamedSettings = Readonly<Record<string, string>>;

// the conventional names other tools use for these
const ENV_NAMES: Record<string, string> = {
  databaseUrl: 'DATABASE_URL',
  busUrl: 'BUS_URL',
  // the Energy Dashboard's FTP server (files module), as its deployments set it
  'files.ftp.host': 'FTP_SA4CPS_HOST',
  'files.ftp.port': 'FTP_SA4CPS_PORT',
  'files.ftp.username': 'FTP_SA4CPS_USERNAME',
  'files.ftp.password': 'FTP_SA4CPS_PASSWORD',
  'files.ftp.remotePath': 'FTP_SA4CPS_REMOTE_PATH',
  'files.ftp.checkInterval': 'FTP_CHECK_INTERVAL',
  'files.ftp.skipInitialScan': 'FTP_SKIP_INITIAL_SCAN',
};

/** Environment variable for a setting path: `ingest.batchSize` → `WATTLINE_INGEST_BATCH_SIZE`. */
export function envName(path: readonly string[]): string {
  return (
    ENV_NAMES[path.join('.')] ??
    'WATTLINE_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
  );
}

/**
 * One schema from core's settings and each module's; two modules claiming one area is a
 * programming error, caught at start.
 */
export function composeSettings<T extends Record<string, z.ZodType>>(
  parts: readonly { owner: string; schema: SettingsSchema }[],
): z.ZodObject<T> {
  const shape: Record<string, z.ZodType> = {};
  const ownerOf = new Map<string, string>();
  for (const { owner, schema } of parts) {
    for (const [area, setting] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const other = ownerOf.get(area);
      if (other) throw new Error(`settings area "${area}" is claimed by both ${other} and ${owner}`);
      ownerOf.set(area, owner);
      shape[area] = setting;
    }
  }
  return z.object(shape) as z.ZodObject<T>;
}

export interface SettingDoc {
  path: string;
  env: string;
  /** Environment variables of the setting's old names, still accepted. */
  oldEnv: string[];
  default: unknown;
  doc: string;
}

/** Every leaf setting with its variable, default and description, in schema order. */
export function listSettings(schema: SettingsSchema, renamed: RenamedSettings = {}): SettingDoc[] {
  const out: SettingDoc[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string[]) => {
    for (const [name, setting] of Object.entries(shape)) {
      const path = [...prefix, name];
      const inner = unwrapObject(setting);
      if (inner) walk(inner.shape as Record<string, z.ZodType>, path);
      else {
        const parsed = setting.safeParse(undefined);
        const dotted = path.join('.');
        const env = envName(path);
        const oldEnv = Object.entries(renamed)
          .filter(([, to]) => to === dotted)
          .map(([from]) => envName(from.split('.')))
          .filter((e) => e !== env);
        out.push({
          path: dotted,
          env,
          oldEnv,
          default: parsed.success ? parsed.data : undefined,
          doc: setting.description ?? '',
        });
      }
    }
  };
  walk(schema.shape as Record<string, z.ZodType>, []);
  return out;
}

function unwrapObject(schema: z.ZodType): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  const def = (schema as { def?: { innerType?: z.ZodType } }).def;
  return def?.innerType ? unwrapObject(def.innerType) : undefined;
}

export class ConfigError extends Error {}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  /** YAML file path; otherwise `WATTLINE_CONFIG` from env. */
  configFile?: string;
  /** Values that win over everything (used by tests and the CLI). */
  overrides?: Record<string, unknown>;
}

/**
 * Reads YAML (optional) and the environment once, validates against `schema`, and returns a frozen
 * config. Old names (`renamed`) are read too; the new name wins when both are given.
 */
export function loadSettings<S extends SettingsSchema>(
  schema: S,
  renamed: RenamedSettings,
  options: LoadConfigOptions = {},
): Readonly<z.output<S>> {
  const env = options.env ?? {};
  const file = options.configFile ?? env.WATTLINE_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file} cannot be read: ${(err as Error).message}`);
    }
    const parsed: unknown = YAML.parse(text) ?? {};
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConfigError(`config file ${file} must hold a YAML mapping`);
    raw = parsed as Record<string, unknown>;
  }
  // old YAML paths move to their new place, unless the new one is set too
  for (const [from, to] of Object.entries(renamed)) {
    const value = takePath(raw, from.split('.'));
    if (value !== undefined && getPath(raw, to.split('.')) === undefined) setPath(raw, to.split('.'), value);
  }
  for (const s of listSettings(schema, renamed)) {
    const value = env[s.env] ?? s.oldEnv.map((name) => env[name]).find((v) => v !== undefined);
    if (value !== undefined) setPath(raw, s.path.split('.'), value);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    setPath(raw, (renamed[path] ?? path).split('.'), value);
  }

  const result = schema.safeParse(raw);
  if (!result.success) {
    const messages = result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const got = getPath(raw, path);
      // never echo API keys or passwords (alone, or inside a location URL) back into logs
      const secret = path[0] === 'apiKeys' || path.includes('password') || path.join('.').startsWith('files.locations');
      const shown = got === undefined || secret ? '' : ` (got ${JSON.stringify(got)})`;
      return `${envName(path)} (${path.join('.')}): ${issue.message}${shown}`;
    });
    throw new ConfigError(`invalid settings:\n  ${messages.join('\n  ')}`);
  }
  return deepFreeze(result.data);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function getPath(source: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = source;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/** Removes and returns the value at `path`. */
function takePath(source: Record<string, unknown>, path: string[]): unknown {
  const parent = getPath(source, path.slice(0, -1));
  if (!parent || typeof parent !== 'object') return undefined;
  const last = path[path.length - 1];
  const value = (parent as Record<string, unknown>)[last];
  delete (parent as Record<string, unknown>)[last];
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
