/**
 * The README's shell blocks, read as a newcomer reads them. Every ```bash block carries a word after
 * `bash` that says what a test does with it:
 *
 *   ```bash run    run, command by command, from the root of a clone (tests/shipped/sandbox.ts)
 *   ```bash ci     run by .ci/run on every submission (the install and the whole test suite)
 *   ```bash aws    needs AWS credentials or a deployed stack: not run; what can be checked offline is
 *
 * A command's trailing comment may state what it does: `(exit N)` its exit code (0 when not said),
 * `prints A, B` text its output must hold (up to a `(`, `:` or `;`).
 */
export type BlockKind = 'run' | 'ci' | 'aws';

export interface Command {
  /** The command as it would be typed, continuation lines and heredoc included. */
  text: string;
  /** Its trailing comment, if any. */
  comment: string;
  exit: number;
  prints: string[];
  /** The README's line where it starts. */
  line: number;
}

export interface Block {
  kind: BlockKind | undefined;
  info: string;
  line: number;
  commands: Command[];
}

const KINDS = new Set<string>(['run', 'ci', 'aws']);

/** The comment after a command: the README puts two spaces or more before a trailing `#`. */
const splitComment = (line: string) => {
  const match = /^(.*?\S)\s{2,}#\s?(.*)$/.exec(line);
  return match
    ? { code: match[1] as string, comment: (match[2] as string).trim() }
    : { code: line, comment: '' };
};

const commandsOf = (body: string, firstLine: number): Command[] => {
  const lines = body.split('\n');
  const commands: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const start = i;
    let { code, comment } = splitComment(raw);
    const heredoc = /<<-?\s*'?(\w+)'?/.exec(code);
    if (heredoc) {
      const end = lines.findIndex((l, j) => j > i && l.trim() === heredoc[1]);
      if (end < 0) throw new Error(`README line ${firstLine + i}: a heredoc without its ${heredoc[1]}`);
      code = [code, ...lines.slice(i + 1, end + 1)].join('\n');
      i = end;
    } else {
      while (code.endsWith('\\') && i + 1 < lines.length) {
        i++;
        const next = splitComment((lines[i] as string).trim());
        code = `${code}\n  ${next.code}`;
        comment = next.comment || comment;
      }
    }
    const exit = /\(exit (\d+)\)/.exec(comment);
    const prints = /\bprints ([^(:;]+)/.exec(comment);
    commands.push({
      text: code,
      comment,
      exit: exit ? Number(exit[1]) : 0,
      prints: prints
        ? (prints[1] as string)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
      line: firstLine + start,
    });
  }
  return commands;
};

/** Every ```bash block of a markdown text, in order, indented ones (in lists) included. */
export const shellBlocks = (markdown: string): Block[] => {
  const blocks: Block[] = [];
  const fence = /^( *)```bash([^\n]*)\n([\s\S]*?)^\1```[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) {
    const info = (match[2] as string).trim();
    const line = markdown.slice(0, match.index).split('\n').length;
    const indent = (match[1] as string).length;
    const body = (match[3] as string)
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    const word = info.split(/\s+/)[0] ?? '';
    blocks.push({
      kind: KINDS.has(word) ? (word as BlockKind) : undefined,
      info,
      line,
      commands: commandsOf(body, line + 1),
    });
  }
  return blocks;
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

/** The relative links of a markdown text (images included), with their line; code spans and blocks skipped. */
export const relativeLinks = (markdown: string) => {
  const withoutCode = markdown.replace(/^( *)```[\s\S]*?^\1```/gm, (block) => block.replace(/[^\n]/g, ' '));
  const links: { target: string; line: number }[] = [];
  for (const match of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1] as string;
    if (/^[a-z]+:/i.test(target)) continue;
    links.push({ target, line: withoutCode.slice(0, match.index).split('\n').length });
  }
  return links;
};
