import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

/*
 * Minified frames (`at Te (index.js:1:50027)`) rewritten to the TypeScript they came from, only
 * when an invocation fails (docs/decisions/0028). Node's `--enable-source-maps` would do the same
 * for every trace, but parses the map at every cold start (7-17 % of init, `npm run bench`); here
 * the map beside the bundle is read once, on the first failure, with Node's own SourceMap.
 */

const maps = new Map<string, SourceMap | null>();

/** Where the shipped map puts every bundled dependency (esbuild.config.cjs): left unmapped. */
const DEPENDENCIES_SOURCE = 'node_modules';

const mapOf = (file: string): SourceMap | null => {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null; // no map beside this file (tests run the TypeScript itself)
    }
    maps.set(file, map);
  }
  return map;
};

const FRAME = /(\(|at )([^()\s]+\.c?js):(\d+):(\d+)(\)?)$/;

/** One frame line, mapped to its TypeScript file and line when the bundle's map knows it. */
const mapFrame = (line: string): string => {
  const match = FRAME.exec(line);
  if (!match) return line;
  const [whole, open, file, row, column, close] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const entry = mapOf(file)?.findEntry(Number(row) - 1, Number(column) - 1) as
    | { originalSource?: string; originalLine?: number; originalColumn?: number }
    | undefined;
  if (
    !entry?.originalSource ||
    entry.originalSource === DEPENDENCIES_SOURCE ||
    entry.originalLine === undefined ||
    entry.originalColumn === undefined
  )
    return line;
  const source = entry.originalSource.replace(/^file:\/\//, '');
  const where = `${source.startsWith('/') ? source : `/${source}`}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  return `${line.slice(0, line.length - whole.length)}${open}${where}${close}`;
};

/** Rewrites `error.stack` in place, frame by frame; anything unmapped stays as it was. */
export const mapStackTrace = (error: unknown): void => {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return;
  try {
    error.stack = error.stack.split('\n').map(mapFrame).join('\n');
  } catch {
    // A trace we cannot map is still the trace.
  }
};
