import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type MachineName, readAsl } from '@tradai/local-aws';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const box = sandbox();
afterAll(() => box.remove());

import { sandbox, shell } from '../../../../tests/shipped/sandbox';

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH names another. */
const chromium = () => {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('No Chromium: apt-get install chromium (or set CHROMIUM_PATH). .ci/run installs it.');
};

/** Where the screenshots go: packages/simulator/.screenshots (CI keeps them). */
const SCREENSHOTS = fileURLToPath(new URL('../../.screenshots/', import.meta.url));

/**
 * Runs the shipped CLI as a user does (`npm run simulate -- ... --report`), from a sandboxed clone;
 * returns the report's path and the run's states.
 */
const reportOf = async (args: string[]) => {
  const target = path.join(mkdtempSync(path.join(tmpdir(), 'tradai-report-')), 'run.html');
  const run = shell(`npm run --silent simulate -- ${args.join(' ')} --report ${target} --json`, box.dir);
  expect(run.stderr).not.toContain('running the TypeScript sources');
  return { target, run: JSON.parse(run.stdout) as { states: string[]; status: string } };
};

describe('the run report, in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await puppeteer.launch({
      executablePath: chromium(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each([
    ['backtest-happy', ['backtest']],
    ['backtest-stale-data-synced', ['backtest', '--case', 'StaleDataAutoSyncOn']],
    ['backtest-spot-fallback', ['backtest', '--case', 'SpotInterruptedFallsBackToOnDemand']],
    ['backtest-simplified-timeout', ['backtest-simplified', '--case', 'EcsTimeout']],
    ['data-sync-gaps', ['data-sync', '--case', 'GapsAboveThreshold']],
    ['deploy-rollout-fails', ['deploy', '--case', 'RolloutFails']],
    ['backtest-sweep-beyond-tolerance', ['backtest-sweep', '--case', 'FailuresBeyondTolerance']],
  ])('%s: renders with no console error and shows every state of the path', async (name, args) => {
    // Prepare
    const { target, run } = await reportOf(args);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn')
        problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    await page.setViewport({ width: 1500, height: 1000 });

    // Act
    await page.goto(pathToFileURL(target).href, { waitUntil: 'load' });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

    // Assess: every state the run entered is drawn, marked as run, and inside the graph's view
    const machine = args[0] as string;
    const shown = await page.$$eval(`g.state.visited[data-machine="${machine}"]`, (nodes) =>
      nodes.map((node) => {
        const box = node.getBoundingClientRect();
        const view = node.ownerSVGElement.getBoundingClientRect();
        const inView =
          box.left >= view.left &&
          box.top >= view.top &&
          box.right <= view.right + 1 &&
          box.bottom <= view.bottom + 1;
        return { state: node.getAttribute('data-state'), visible: box.width > 0 && inView };
      }),
    );
    for (const state of new Set(run.states)) {
      expect(shown, `${state} on the graph`).toContainEqual({ state, visible: true });
    }
    // Selecting a state shows its input
    const first = `g.state[data-machine="${machine}"][data-state="${run.states[0]}"]`;
    await page.click(first);
    const details = await page.$eval('#details', (panel) => panel.textContent ?? '');
    expect(details).toContain(`${run.states[0]} (${machine})`);
    expect(details).toContain('Input');
    // The whole graph is an overview; zoomed in, a state is read at a size a person can read (at least
    // 80% of its laid-out 34 px), and choosing it in the timeline brings it into the view.
    for (let i = 0; i < 3; i++) await page.click('section.execution [data-zoom="in"]');
    await page.click(`section.execution .timeline .row[data-state="${run.states[0]}"]`);
    const zoomed = await page.$eval(first, (node) => {
      const box = node.getBoundingClientRect();
      const view = node.ownerSVGElement.getBoundingClientRect();
      return {
        height: Math.round(box.height),
        inView:
          box.left >= view.left &&
          box.top >= view.top &&
          box.right <= view.right &&
          box.bottom <= view.bottom,
      };
    });
    expect(zoomed.height, JSON.stringify(zoomed)).toBeGreaterThanOrEqual(27);
    expect(zoomed.inView, JSON.stringify(zoomed)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  // Issue 23: a graph about 1,500 px wide must fit its panel, with the run's path on screen when the page opens.
  const VIEWPORTS = [
    { width: 1400, height: 1000 },
    { width: 390, height: 844 },
  ];
  interface Box {
    x: number;
    y: number;
    width: number;
    height: number;
  }

  /** Where a state of an execution's graph and the graph are, in CSS px of the viewport. */
  const placeOf = (page: Page, execution: number, state: string) =>
    page.$$eval(
      'section.execution',
      (sections, index, name) => {
        const box = (element: { getBoundingClientRect(): Box } | null | undefined) => {
          if (!element) return null;
          const { x, y, width, height } = element.getBoundingClientRect();
          return { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) };
        };
        const section = sections[index];
        const graph = section?.querySelector('svg.graph');
        const window = section?.ownerDocument.defaultView;
        return {
          state: box(section?.querySelector(`g.state[data-state="${name}"]`)),
          graph: box(graph),
          panelWidth: (graph?.parentElement?.clientWidth ?? 0) as number,
          viewport: { width: window?.innerWidth ?? 0, height: window?.innerHeight ?? 0 },
        };
      },
      execution,
      state,
    );
  type Place = Awaited<ReturnType<typeof placeOf>>;
  const inside = (box: Box | null, area: Box) =>
    box !== null &&
    box.width > 0 &&
    box.x >= area.x &&
    box.y >= area.y &&
    box.x + box.width <= area.x + area.width + 1 &&
    box.y + box.height <= area.y + area.height + 1;
  const expectOnScreen = (place: Place, what: string) => {
    const seen = `${what}: ${JSON.stringify(place)}`;
    expect(place.graph?.width ?? Infinity, `graph wider than its panel. ${seen}`).toBeLessThanOrEqual(
      place.panelWidth,
    );
    expect(inside(place.state, { x: 0, y: 0, ...place.viewport }), `off the screen. ${seen}`).toBe(true);
    // On the screen is not enough: the SVG, the graph's own viewport, must not clip it either.
    expect(inside(place.state, place.graph ?? { x: 0, y: 0, width: 0, height: 0 }), `clipped. ${seen}`).toBe(
      true,
    );
  };

  it.each([
    ['backtest-happy', ['backtest']],
    ['backtest-stale-data-synced', ['backtest', '--case', 'StaleDataAutoSyncOn']],
    ['backtest-container-exits-nonzero', ['backtest', '--case', 'ContainerExitsNonZero']],
  ])(
    '%s: each graph fits its panel, its first and last state on screen, at 1400x1000 and 390x844',
    async (name, args) => {
      const { target, run } = await reportOf(args);
      const machine = args[0] as MachineName;
      for (const viewport of VIEWPORTS) {
        // Prepare
        const page = await browser.newPage();
        await page.setViewport(viewport);
        const size = `${viewport.width}x${viewport.height}`;

        // Act: open the page and look at its first screen, unscrolled
        await page.goto(pathToFileURL(target).href, { waitUntil: 'load' });
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size}.png`) });
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size}-full.png`), fullPage: true });

        // Assess: the graph shows where the run started (the machine's StartAt) and where it ended
        const last = run.states.at(-1) as string;
        expectOnScreen(await placeOf(page, 0, readAsl(machine).StartAt), `${size} ${machine} StartAt`);
        expectOnScreen(await placeOf(page, 0, last), `${size} ${machine} last state ${last}`);
        // So does each nested execution's graph once scrolled to; its path is its timeline's rows.
        const nested = await page.$$eval('section.execution', (sections) =>
          sections.slice(1).map((section) => ({
            machine: section.getAttribute('data-machine') as MachineName,
            last: ([...section.querySelectorAll('.timeline .row')].at(-1)?.getAttribute('data-state') ??
              '') as string,
          })),
        );
        if (name === 'backtest-stale-data-synced')
          expect(nested.map((n) => n.machine)).toEqual(['data-sync']);
        for (const [i, execution] of nested.entries()) {
          await page.$$eval(
            'section.execution svg.graph',
            (graphs, index) => graphs[index]?.scrollIntoView(),
            i + 1,
          );
          await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-nested-${i + 1}-${size}.png`) });
          const what = `${size} nested ${execution.machine}`;
          expectOnScreen(await placeOf(page, i + 1, readAsl(execution.machine).StartAt), `${what} StartAt`);
          expectOnScreen(await placeOf(page, i + 1, execution.last), `${what} last state ${execution.last}`);
        }
        // The page never scrolls sideways, nor does any panel in it.
        const overflow = await page.$eval('html', (html) => ({
          scrollWidth: html.scrollWidth as number,
          innerWidth: (html.ownerDocument.defaultView?.innerWidth ?? 0) as number,
          sideways: [...html.querySelectorAll('section')]
            .filter((section) => section.scrollWidth > section.clientWidth)
            .map(
              (section) =>
                `${section.querySelector('h2')?.textContent}: ${section.scrollWidth} > ${section.clientWidth}`,
            ),
        }));
        expect(overflow.scrollWidth, `${size}: ${JSON.stringify(overflow)}`).toBeLessThanOrEqual(
          overflow.innerWidth,
        );
        expect(overflow.sideways, size).toEqual([]);
        await page.close();
      }
    },
  );
});
