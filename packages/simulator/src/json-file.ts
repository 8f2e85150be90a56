import { readFileSync } from 'node:fs';

/** Why a file could not be read, as a person says it. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** 1-based line and column of `offset` in `text`. */
const lineAndColumn = (text: string, offset: number) => {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
};

/**
 * Where strict JSON first goes wrong in `text`: the offset of the first character that cannot be
 * part of a JSON document, or the text's length when it ends too early. Only for the errors whose
 * message gives no position (Node 20: "Unexpected token ...", "Unexpected end of JSON input").
 */
export const firstJsonError = (text: string): number => {
  let at = 0;
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const fail = () => {
    throw at;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[at] !== char) fail();
      at++;
    }
  };
  const string = () => {
    at++;
    while (at < text.length && text[at] !== '"') {
      const char = text.charCodeAt(at);
      if (char < 0x20) fail();
      if (text[at] === '\\') {
        at++;
        if (text[at] === 'u') {
          for (let i = 1; i <= 4; i++) if (!/[0-9a-fA-F]/.test(text[at + i] ?? '')) fail();
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? 'x')) fail();
      }
      at++;
    }
    if (at >= text.length) fail();
    at++;
  };
  const number = () => {
    const pattern = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    pattern.lastIndex = at;
    if (!pattern.test(text)) fail();
    at = pattern.lastIndex;
  };
  const value = (): void => {
    space();
    const char = text[at];
    if (char === '{') {
      at++;
      space();
      if (text[at] === '}') {
        at++;
        return;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        string();
        space();
        if (text[at] !== ':') fail();
        at++;
        value();
        space();
        if (text[at] === '}') {
          at++;
          return;
        }
        if (text[at] !== ',') fail();
        at++;
      }
    }
    if (char === '[') {
      at++;
      space();
      if (text[at] === ']') {
        at++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[at] === ']') {
          at++;
          return;
        }
        if (text[at] !== ',') fail();
        at++;
      }
    }
    if (char === '"') string();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) number();
    else fail();
  };
  try {
    value();
    space();
    // Anything after the document is the error (a parse that failed cannot end here cleanly).
    return Math.min(at, text.length);
  } catch (offset) {
    // A document nested deeper than this scanner's stack: no place to name but the end.
    return typeof offset === 'number' ? Math.min(offset, text.length) : text.length;
  }
};

/**
 * JSON.parse's complaint as one line, and where it is: Node 22 says "(line 3 column 5)", Node 20
 * "at position 42", and for an unexpected token or an early end nothing (the file is scanned).
 */
const describeJsonError = (text: string, error: Error) => {
  const message = error.message;
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  const where = lineColumn
    ? { line: Number(lineColumn[1]), column: Number(lineColumn[2]) }
    : lineAndColumn(text, position ? Number(position[1]) : firstJsonError(text));
  const what = message
    // V8 quotes the text round an unexpected token: `Unexpected token '}', "{"a": }" is not valid JSON`.
    .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ at position \d+.*$/s, '')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `not JSON at line ${where.line} (column ${where.column}): ${what}`;
};

export type JsonFile =
  | { ok: true; value: unknown }
  /** Unreadable: "no such file", "is a directory", "permission denied"; or read, and not JSON. */
  | { ok: false; unreadable: boolean; reason: string };

/** The file's JSON, or why not: "no such file", ..., "not JSON at line 3 (column 5): ...". */
export const readJsonFile = (file: string): JsonFile => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return { ok: false, unreadable: true, reason: REASONS[code] ?? (error as Error).message };
  }
  // An editor's byte-order mark is no reason to refuse a file.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, unreadable: false, reason: describeJsonError(text, error as Error) };
  }
};
