import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, shell } from '../../../tests/shipped/sandbox';
import { dynamicImports } from '../bin/build.mjs';

/**
 * The CLI as users run it: `npm run simulate` and `npm start` from the root of a clone, through the
 * shipped bin and its bundle (bin/tradai-sim.mjs runs dist/tradai-sim.cjs as a vm.Script). The other
 * CLI tests may call the sources; these stand for the bin, which the sources cannot: the --report of
 * every earlier build crashed here (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING) while they all passed.
 */
describe('the shipped CLI, as the README runs it', () => {
  let box: ReturnType<typeof sandbox>;
  beforeAll(() => {
    box = sandbox();
  });
  afterAll(() => box.remove());

  /** No run may fall back to the sources: that would test them again, not the bundle. */
  const ranTheBundle = (stderr: string) => expect(stderr).not.toContain('running the TypeScript sources');

  it.each([
    ['backtest --report out.html', 'out.html', 'As the case expects (SUCCEEDED).'],
    [
      'backtest --case ContainerExitsNonZero --report failed.html',
      'failed.html',
      'As the case expects (FAILED BacktestTaskFailedError).',
    ],
  ])('npm run simulate -- %s: exit 0 and a report with the graph', (args, file, verdict) => {
    // Act
    const run = shell(`npm run simulate -- ${args}`, box.dir);

    // Assess
    expect(run.stderr).not.toMatch(/Error \[|TypeError|ERR_/);
    ranTheBundle(run.stderr);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Report: ${file}`);
    expect(run.stdout).toContain(verdict);
    const html = readFileSync(path.join(box.dir, file), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<svg');
    expect(html).toContain('RunBacktest');
  });

  it('npm start: the backtest happy path, exit 0, written nowhere but stdout', () => {
    // Act
    const run = shell('npm start', box.dir);

    // Assess
    ranTheBundle(run.stderr);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ {2}RunBacktest +Task +ok +sim 42 min/m);
    expect(run.stdout).toContain('As the case expects (SUCCEEDED).');
    expect(existsSync(path.join(box.dir, 'run.html'))).toBe(false);
  });
});

describe('the bundle the bin runs', () => {
  it('keeps no dynamic import(), which a vm.Script cannot run: the build refuses one', async () => {
    // Arrange: esbuild's metafile of a file with one dynamic and one static import
    const metafile = {
      inputs: {},
      outputs: {
        'dist/x.cjs': {
          imports: [
            { path: 'elkjs/lib/elk.bundled.js', kind: 'dynamic-import', external: true },
            { path: 'node:fs', kind: 'require-call', external: true },
          ],
        },
      },
    };

    // Act + Assess
    expect(dynamicImports(metafile)).toEqual(['elkjs/lib/elk.bundled.js']);
  });
});
