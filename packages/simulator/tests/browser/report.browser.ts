import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src';

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

const silent = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
const json = (text: string) => JSON.parse(text);

/** Runs the simulator with --report; returns the report's path and the run's states. */
const reportOf = async (args: string[]) => {
  const target = path.join(mkdtempSync(path.join(tmpdir(), 'tradai-report-')), 'run.html');
  let out = '';
  const stdout = {
    write: (t: string) => {
      out += t;
      return true;
    },
    isTTY: false,
  } as unknown as NodeJS.WriteStream;
  await main([...args, '--report', target, '--json'], stdout, silent);
  const run = json(out) as { states: string[]; status: string };
  return { target, run };
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

    // Assess: every state the run entered is drawn, visible, and marked as run
    const machine = args[0] as string;
    const shown = await page.$$eval(`g.state.visited[data-machine="${machine}"]`, (nodes) =>
      nodes.map((node) => {
        const box = node.getBoundingClientRect();
        // Drawn at a size a person can read: at least 80% of its laid-out 34 px height.
        return { state: node.getAttribute('data-state'), visible: box.width > 20 && box.height >= 27 };
      }),
    );
    for (const state of new Set(run.states)) {
      expect(shown, `${state} on the graph`).toContainEqual({ state, visible: true });
    }
    // Selecting a state shows its input
    await page.click(`g.state[data-machine="${machine}"][data-state="${run.states[0]}"]`);
    const details = await page.$eval('#details', (panel) => panel.textContent ?? '');
    expect(details).toContain(`${run.states[0]} (${machine})`);
    expect(details).toContain('Input');
    expect(problems).toEqual([]);
    await page.close();
  });
});
