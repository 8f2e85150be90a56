/*
 * A cache for work the local engine and the simulator would otherwise redo on every start: parsing
 * the stack's YAML, validating an ASL definition. Entries are keyed by a hash of their input, so an
 * edited file is simply a new key, and nothing is ever stale. It lives in node_modules/.cache, where
 * `npm ci` starts it empty. A checkout that cannot be written to still works; it just redoes the work.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './serverless';

export const LOCAL_CACHE = path.join(REPO_ROOT, 'node_modules', '.cache', 'tradai-local-aws');

/** A short, file-name-safe hash of `text`. */
export const stampOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

const entry = (key: string) => path.join(LOCAL_CACHE, key);

const write = (key: string, contents: string) => {
  try {
    mkdirSync(LOCAL_CACHE, { recursive: true });
    writeFileSync(entry(key), contents);
  } catch {
    // Read-only: the next start redoes the work, and nothing else changes.
  }
};

/** Whether `key` was noted before (a check that passed, say). */
export const notedBefore = (key: string) => existsSync(entry(key));
export const note = (key: string) => write(key, '');

/** `compute()`'s JSON, from the cache when an earlier process computed it for the same key. */
export const cachedJson = <T>(key: string, compute: () => T): T => {
  try {
    return JSON.parse(readFileSync(entry(key), 'utf8')) as T;
  } catch {
    const value = compute();
    write(key, JSON.stringify(value));
    return value;
  }
};
