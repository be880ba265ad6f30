import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir, until } from './helpers.js';

export const bin = path.join(import.meta.dirname, '..', 'bin', 'wattline.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Goes to the process's stdin (then stdin is closed). */
  input?: string | Buffer;
  cwd?: string;
  /** Added to the environment (which holds no WATTLINE_ variable of ours). */
  env?: Record<string, string>;
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** What the process printed so far. */
  output: { stdout: string; stderr: string };
  /** Waits until stdout or stderr matches `pattern` (or the process ends). */
  printed(pattern: RegExp, what?: string): Promise<void>;
  done: Promise<Run>;
}

/** Starts `wattline <args>` as a real process. Killed after 30 s. */
export function startWattline(args: string[], options: RunOptions = {}): Running {
  // the CLI reads its defaults from the environment: keep ours out of it
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WATTLINE_')));
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...env, ...options.env },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...output }));
  });
  child.stdin.on('error', () => undefined); // a process that exits before reading its stdin
  if (options.input !== undefined) child.stdin.end(options.input);
  return {
    child,
    output,
    done,
    printed: (pattern, what = String(pattern)) =>
      until(() => pattern.test(output.stdout) || pattern.test(output.stderr) || child.exitCode !== null, 30_000, what),
  };
}

/** Runs `wattline <args>` as a real process to its end; stdin gets `input` (or nothing). */
export function wattline(args: string[], options: RunOptions = {}): Promise<Run> {
  return startWattline(args, { ...options, input: options.input ?? '' }).done;
}

/** A temp directory the test owns, holding `files`; returns their paths by name. */
export function writeFiles(t: TestContext, files: Record<string, string | Buffer>): Record<string, string> {
  const dir = tempDir('wattline-cli-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return Object.fromEntries(
    Object.entries(files).map(([name, text]) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return [name, file];
    }),
  );
}

/** Lines that look like a stack trace's frames. */
export const STACK_LINE = /^ {4}at /m;
