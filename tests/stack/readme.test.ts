import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL } from '@tradai/local-aws';
import { DEFAULT_REGION, FUNCTIONS } from '@tradai/stack';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { relativeLinks, shellBlocks, slug } from '../shipped/readme';
import { REPO, sandbox, shell } from '../shipped/sandbox';

/**
 * The README's commands, run as a newcomer runs them (tests/shipped/readme.ts says how its blocks
 * are marked). A command that breaks, a block nobody marked, a command that disappears from the
 * list below, a function missing from the `sls invoke local` list, a link to nowhere: each fails.
 */
const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const blocks = shellBlocks(README);
const commands = (kind: string) => blocks.filter((b) => b.kind === kind).flatMap((b) => b.commands);

describe('the README', () => {
  it('marks every shell block run, ci or aws', () => {
    // Assess
    expect(
      blocks.filter((b) => b.kind === undefined).map((b) => `line ${b.line}: \`\`\`bash ${b.info}`),
    ).toEqual([]);
  });

  it('runs the commands it always ran: a removed command is a change to this list, not a silent pass', () => {
    // Assess: what a newcomer is promised, at the least
    const run = commands('run').map((c) => c.text.split('\n')[0]);
    expect(run).toEqual(
      expect.arrayContaining([
        'npm run simulate -- --list',
        'npm run simulate -- backtest --case StaleDataAutoSyncOn --report run.html',
        'npm run simulate -- backtest --input my-request.json --report run.html',
        'npm run simulate -- backtest --input my-request.json --world world.json',
        'npm run simulate -- backtest-sweep',
        "npx sls invoke local -f transformResults -d '{}'",
      ]),
    );
    expect(commands('ci').map((c) => c.text)).toEqual([
      'npm ci && npm start',
      'npm ci && npm test',
      'npm test -w @tradai/workflow-tests',
    ]);
  });

  it('lists every declared function for sls invoke local, each with a sample event that exists', () => {
    // Arrange
    const invoked = [...README.matchAll(/npx sls invoke local -f (\w+) -p (\S+)/g)].map((m) => ({
      fn: m[1] as string,
      event: m[2] as string,
    }));

    // Assess
    expect(invoked.map((i) => i.fn).sort()).toEqual(FUNCTIONS.map((fn) => fn.key).sort());
    expect(invoked.filter((i) => !existsSync(path.join(REPO, i.event))).map((i) => i.event)).toEqual([]);
  });

  it('links only to files of this repository that exist, and to headings it has', () => {
    // Arrange: the README and the docs, with their relative links
    const docs = readdirSync(path.join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(REPO, 'docs', f));
    const anchors = new Set([...README.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] as string)));

    // Act
    const broken = [path.join(REPO, 'README.md'), ...docs].flatMap((file) =>
      relativeLinks(readFileSync(file, 'utf8')).flatMap(({ target, line }) => {
        const [where, anchor] = target.split('#');
        const resolved = where ? path.resolve(path.dirname(file), decodeURI(where)) : file;
        const inside = !path.relative(REPO, resolved).startsWith('..');
        const ok =
          inside &&
          existsSync(resolved) &&
          (where || !anchor || !file.endsWith('README.md') || anchors.has(anchor));
        return ok ? [] : [`${path.relative(REPO, file)}:${line} ${target}`];
      }),
    );

    // Assess
    expect(broken).toEqual([]);
  });

  it.each(commands('ci'))('$text: run by .ci/run on every submission (line $line)', ({ text }) => {
    // Arrange
    const ci = readFileSync(path.join(REPO, '.ci/run'), 'utf8');
    const workspace = /^npm test -w (\S+)$/.exec(text)?.[1];

    // Assess: the install and each command in .ci/run; a workspace's tests in `npm test` (turbo)
    if (workspace) {
      const manifest = readdirSync(path.join(REPO, 'packages'))
        .map((dir) => JSON.parse(readFileSync(path.join(REPO, 'packages', dir, 'package.json'), 'utf8')))
        .find((p) => p.name === workspace);
      expect(manifest?.scripts?.test).toBeTruthy();
      expect(ci).toMatch(/^npm test$/m);
    } else {
      for (const part of text.split('&&').map((p) => p.trim()))
        expect(ci).toMatch(new RegExp(`^${part}\\b`, 'm'));
    }
  });

  it.each(commands('aws'))(
    '$text: not run, it needs AWS credentials or a deployed stack (line $line)',
    ({ text }) => {
      // Assess what can be checked offline: the files it sends exist; a function it names is declared
      for (const file of text.matchAll(/(?:file:\/\/|-d @|-p )(\S+)/g))
        expect(existsSync(path.join(REPO, file[1] as string)), file[1]).toBe(true);
      const fn = /-f (\w+)/.exec(text)?.[1];
      if (fn) expect(FUNCTIONS.map((f) => f.key)).toContain(fn);
    },
  );

  describe('its runnable commands, in order, from the root of a clone', () => {
    const box = sandbox();
    afterAll(() => box.remove());

    it.each(commands('run'))('$text (line $line)', ({ text, exit, prints }) => {
      // Act
      const run = shell(text, box.dir, 180_000);

      // Assess
      const output = `${run.stdout}\n${run.stderr}`;
      expect(run.status, output.slice(-2000)).toBe(exit);
      // Columns are padded: what it prints is compared with runs of spaces as one
      for (const text of prints) expect(output.replace(/[ \t]+/g, ' ')).toContain(text);
      expect(run.stderr).not.toContain('running the TypeScript sources');
    });
  });

  it('states one default region, the one a deploy and the local engine use', () => {
    // Arrange: what `sls package` resolved with no --region and no AWS_REGION (global-setup)
    const state = JSON.parse(readFileSync(path.join(inject('packagedDir'), 'serverless-state.json'), 'utf8'));

    // Assess
    expect(state.service.provider.region).toBe(DEFAULT_REGION);
    expect(LOCAL.region).toBe(DEFAULT_REGION);
    expect(README).toContain(`(default ${DEFAULT_REGION})`);
    expect(README.match(/\(default [a-z]{2}-[a-z]+-\d\)/g)).toEqual([`(default ${DEFAULT_REGION})`]);
  });

  it('prints no turbo telemetry notice on a fresh clone: every npm script that runs turbo turns it off', () => {
    // Arrange
    const scripts: Record<string, string> = JSON.parse(
      readFileSync(path.join(REPO, 'package.json'), 'utf8'),
    ).scripts;

    // Assess
    const turbo = Object.entries(scripts).filter(([, command]) => /\bturbo run\b/.test(command));
    expect(turbo.length).toBeGreaterThan(0);
    expect(
      turbo.filter(([, command]) => !command.startsWith('TURBO_TELEMETRY_DISABLED=1 ')).map(([name]) => name),
    ).toEqual([]);
  });

  it('names every setting serverless.yml reads from the environment at deploy', () => {
    // Arrange
    const yml = readFileSync(path.join(REPO, 'serverless.yml'), 'utf8');
    const settings = [...new Set([...yml.matchAll(/\$\{env:(TRADAI_\w+)/g)].map((m) => m[1] as string))];

    // Assess
    expect(settings.length).toBeGreaterThan(10);
    expect(settings.filter((name) => !README.includes(`\`${name}\``))).toEqual([]);
  });
});
