#!/usr/bin/env node
// npm run bench: for every function in serverless.yml, the shipped zip size (from `sls package`)
// and the median module-init time over fresh processes of three builds of the same handler:
//   shipped  the options serverless-esbuild uses (esbuild.config.cjs)
//   plain    esbuild defaults: bundle only, no minify, esbuild's default main fields
//   empty    an empty handler built with the shipped options (the floor: Node's own startup)
//   nomap    the shipped options without the source map: what stack traces in TypeScript cost
//            (the map is read only when an invocation fails, so at init it should cost nothing)
// All ratios come from this one run. Budgets (issue #2): the zip sls ships (code and source map)
// <= 150 KB, shipped init <= 0.75 x plain;
// and npm start <= 1.0 s median wall (the simulator's issue); a 1,000-variant sweep <= 6 s wall, a
// 10,000-variant one <= 60 s, each <= 1 GB peak RSS, and the 10,000 no slower than 10 x the 1,000.
// Flags: --runs N (default 25), --strict (exit 1 when a budget is missed), --sweeps 1000 (only the
// 1,000-variant sweep; default 1000,10000).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { bundle, plainBuildOptions } from '../scripts/bundle.mjs';

const { shippedBuildOptions } = createRequire(import.meta.url)('../esbuild.config.cjs');

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outDir = path.join(root, '.bench');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 25;
const strict = args.includes('--strict');
const ZIP_BUDGET_BYTES = 150 * 1024;
const INIT_RATIO_BUDGET = 0.75;

/** `sls package` with no AWS credentials, as a newcomer would run it. */
const packageStack = () => {
  const packageDir = path.join(outDir, 'package');
  rmSync(packageDir, { recursive: true, force: true });
  const env = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[name];
  const sls = spawnSync(
    process.execPath,
    [require.resolve('osls/bin/serverless.js'), 'package', '--stage', 'dev', '--package', packageDir],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (sls.status !== 0) throw new Error(`sls package failed:\n${sls.stdout}\n${sls.stderr}`);
  const state = JSON.parse(readFileSync(path.join(packageDir, 'serverless-state.json'), 'utf8'));
  return Object.entries(state.service.functions).map(([key, fn]) => ({
    key,
    name: fn.name,
    entry: path.join(root, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`),
    zipBytes: statSync(path.join(packageDir, `${key}.zip`)).size,
  }));
};

const zipBytes = (file) => zipSync({ 'index.js': readFileSync(file) }, { level: 9 }).length;

const initProbe = `const t0 = performance.now(); require(process.argv[1]); process.stdout.write(String(performance.now() - t0));`;

/** Milliseconds to load the module in a fresh Node process (what a Lambda cold start pays for it). */
/** What every bench process gets: a region, dummy keys, quiet Powertools; nothing from this shell. */
const BENCH_ENV = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const measureInit = (file, fnName) => {
  const result = spawnSync(process.execPath, ['-e', initProbe, file], {
    encoding: 'utf8',
    env: { ...BENCH_ENV, AWS_LAMBDA_FUNCTION_NAME: fnName },
  });
  if (result.status !== 0) throw new Error(`init probe failed for ${file}:\n${result.stderr}`);
  return Number(result.stdout);
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const kb = (bytes) => (bytes / 1024).toFixed(1);
const ms = (value) => value.toFixed(1);

mkdirSync(outDir, { recursive: true });
console.log(`Packaging the stack (sls package, no credentials)...`);
const functions = packageStack();
const emptyEntry = path.join(outDir, 'empty-handler.ts');
writeFileSync(emptyEntry, 'export const handler = async () => ({});\n');

const rows = [];
for (const fn of functions) {
  const dir = path.join(outDir, fn.key);
  const builds = {
    shipped: path.join(dir, 'shipped.cjs'),
    plain: path.join(dir, 'plain.cjs'),
    empty: path.join(dir, 'empty.cjs'),
    nomap: path.join(dir, 'nomap.cjs'),
  };
  await bundle(fn.entry, builds.shipped);
  await bundle(fn.entry, builds.plain, plainBuildOptions);
  await bundle(emptyEntry, builds.empty);
  await bundle(fn.entry, builds.nomap, {
    ...shippedBuildOptions,
    sourcemap: false,
    plugins: shippedBuildOptions.plugins.filter((plugin) => plugin.name !== 'own-sources-only'),
  });

  // Round-robin, so drift on a busy machine hits the builds alike.
  const samples = { shipped: [], plain: [], empty: [], nomap: [] };
  // Each round starts with the next build, so no build always runs first after a pause.
  const variants = Object.keys(builds);
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(run + i) % variants.length];
      samples[variant].push(measureInit(builds[variant], fn.name));
    }
  }
  const init = Object.fromEntries(
    Object.entries(samples).map(([variant, values]) => [variant, median(values)]),
  );
  rows.push({
    fn,
    zip: { shipped: fn.zipBytes, plain: zipBytes(builds.plain), empty: zipBytes(builds.empty) },
    mapBytes: statSync(`${builds.shipped}.map`).size,
    codeZipBytes: zipBytes(builds.shipped),
    init,
    // esbuild's unminified output names every bundled module's path.
    sdk: readFileSync(builds.plain, 'utf8').includes('node_modules/@aws-sdk/'),
  });
}

const header = [
  'function',
  'zip KB',
  'code zip KB',
  'plain zip KB',
  'init ms',
  'plain init ms',
  'empty init ms',
  'init / plain',
  'init / empty',
  'map KB',
  'no-map init ms',
  'map cost',
  'AWS SDK',
  'budget',
];
const table = rows.map(({ fn, zip, init, sdk, mapBytes, codeZipBytes }) => {
  const ratioPlain = init.shipped / init.plain;
  const ok = zip.shipped <= ZIP_BUDGET_BYTES && ratioPlain <= INIT_RATIO_BUDGET;
  return {
    ok,
    cells: [
      fn.name,
      kb(zip.shipped),
      kb(codeZipBytes),
      kb(zip.plain),
      ms(init.shipped),
      ms(init.plain),
      ms(init.empty),
      ratioPlain.toFixed(2),
      (init.shipped / init.empty).toFixed(2),
      kb(mapBytes),
      ms(init.nomap),
      `${(((init.shipped - init.nomap) / init.nomap) * 100).toFixed(1)} %`,
      sdk ? 'bundled' : 'none',
      ok ? 'ok' : 'MISSED',
    ],
  };
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r.cells[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nNode ${process.version}, ${runs} fresh processes per build, medians.`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row.cells));
console.log(
  `\nBudgets: zip <= ${ZIP_BUDGET_BYTES / 1024} KB (what sls ships: the code and its source map; code zip KB is the bundle alone), init <= ${INIT_RATIO_BUDGET} x plain esbuild ` +
    '(map cost = shipped init vs the same build without a map).',
);
const overZip = rows.filter((row) => row.zip.shipped > ZIP_BUDGET_BYTES);
const largestZip = rows.reduce((a, b) => (b.zip.shipped > a.zip.shipped ? b : a));
console.log(
  `Zip budget (${ZIP_BUDGET_BYTES.toLocaleString('en')} bytes per zip from sls package): ` +
    (overZip.length === 0
      ? `ok, largest ${largestZip.fn.key} ${largestZip.zip.shipped.toLocaleString('en')} bytes ` +
        `(${(largestZip.zip.shipped / ZIP_BUDGET_BYTES).toFixed(2)} x budget)`
      : `MISSED by ${overZip
          .map((row) => `${row.fn.key} (${row.zip.shipped.toLocaleString('en')} bytes)`)
          .join(', ')}`),
);
// Issue #5: a batch of 10 through the trigger vs one record, StartExecution mocked at 50 ms.
const triggerBundle = path.join(outDir, 'trigger-batch.cjs');
await bundle(path.join(root, 'bench/trigger-batch.ts'), triggerBundle, plainBuildOptions);
// Module-scope clients and Powertools read the environment at import: it is set for the process.
const triggerRun = spawnSync(process.execPath, [triggerBundle], {
  encoding: 'utf8',
  env: {
    ...BENCH_ENV,
    POWERTOOLS_METRICS_DISABLED: 'true',
    WORKFLOW_STATE_TABLE: 'tradai-bench-workflow-state',
    BACKTEST_STATE_MACHINE_NAME: 'tradai-bench-backtest',
    BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME: 'tradai-bench-backtest-simplified',
    BACKTEST_SWEEP_STATE_MACHINE_NAME: 'tradai-bench-backtest-sweep',
    REQUEST_DLQ_NAME: 'tradai-bench-backtest-requests-dlq',
  },
});
if (triggerRun.status !== 0) throw new Error(`trigger bench failed:\n${triggerRun.stderr}`);
const trigger = JSON.parse(triggerRun.stdout);
const triggerRatio = trigger.batch10 / trigger.single;
console.log(
  `\nbacktest-trigger, StartExecution mocked at ${trigger.latency} ms (medians of 9): 1 record ${ms(trigger.single)} ms, ` +
    `a batch of 10 ${ms(trigger.batch10)} ms = ${triggerRatio.toFixed(2)} x (budget < 2 x): ${triggerRatio < 2 ? 'ok' : 'MISSED'}`,
);

// npm start: the simulator's main job, end to end, as a newcomer runs it (issue "the simulator").
const START_BUDGET_MS = 1_000;
const startRuns = Math.max(5, Math.min(runs, 9));
spawnSync('npm', ['start'], { cwd: root, encoding: 'utf8' }); // builds dist/ if a source changed
const startTimes = [];
const runOnlyTimes = [];
for (let i = 0; i < startRuns; i++) {
  const t0 = performance.now();
  const run = spawnSync('npm', ['start'], { cwd: root, encoding: 'utf8' });
  startTimes.push(performance.now() - t0);
  if (run.status !== 0) throw new Error(`npm start failed:\n${run.stdout}\n${run.stderr}`);
  const reported = /Simulated 42 min in (\d+) ms/.exec(run.stdout);
  if (reported) runOnlyTimes.push(Number(reported[1]));
}
const startMedian = median(startTimes);
console.log(
  `\nnpm start (backtest, happy path), ${startRuns} runs: median ${ms(startMedian)} ms wall ` +
    `(the run itself ${ms(median(runOnlyTimes))} ms, the rest process start-up), budget <= ${START_BUDGET_MS} ms: ` +
    `${startMedian <= START_BUDGET_MS ? 'ok' : 'MISSED'} (${(startMedian / START_BUDGET_MS).toFixed(2)} x budget)`,
);

// Parameter sweeps on the local Distributed Map, each in a fresh simulator process: Sweep1000 (the
// case: 40 stop-losses x 25 fees at concurrency 50, 20 waves) and 10,000 variants generated from it
// (100 stop-losses x 100 fees at concurrency 500, 20 waves too), then whether the time grows no
// faster than the variants. The stage's default caps refuse a 10,000-variant sweep; its child gets
// the caps a stage would be deployed with for it (TRADAI_MAX_SWEEP_*, serverless.yml).
const SWEEP_BUDGETS = { 1000: 6_000, 10000: 60_000 };
const SWEEP_RSS_BUDGET_BYTES = 1024 ** 3;
const SWEEP_RATIO_BUDGET = 1.0;
const SWEEP_10K_CONCURRENCY = 500;
const wantedSweeps = (args.includes('--sweeps') ? String(args[args.indexOf('--sweeps') + 1]) : '1000,10000')
  .split(',')
  .map(Number);
const sweepCases = JSON.parse(
  readFileSync(path.join(root, 'state-machines/backtest-sweep.cases.json'), 'utf8'),
);
const sweepSample = JSON.parse(readFileSync(path.join(root, 'events/backtest-sweep.json'), 'utf8'));
const sweep10000Input = path.join(outDir, 'sweep-10000.json');
writeFileSync(
  sweep10000Input,
  JSON.stringify({
    ...sweepSample,
    ...sweepCases.cases.Sweep1000.input,
    sweep_id: 'sweep-10000',
    grid: {
      stoploss: Array.from({ length: 100 }, (_, i) => -Number(((i + 1) * 0.005).toFixed(3))),
      fee: Array.from({ length: 100 }, (_, i) => Number(((i + 1) * 0.0001).toFixed(4))),
    },
    max_concurrency: SWEEP_10K_CONCURRENCY,
  }),
);
const SWEEPS = {
  1000: {
    label: 'Sweep1000 (the case: 1,000 variants, concurrency 50)',
    args: ['--case', 'Sweep1000'],
    env: {},
  },
  10000: {
    label: `10,000 variants (100 x 100, concurrency ${SWEEP_10K_CONCURRENCY})`,
    args: ['--input', sweep10000Input],
    env: {
      TRADAI_MAX_SWEEP_VARIANTS: '10000',
      TRADAI_MAX_SWEEP_CONCURRENCY: String(SWEEP_10K_CONCURRENCY),
      // One variant a vCPU: the account's Fargate Spot quota must allow 500 at once.
      TRADAI_FARGATE_SPOT_VCPU_QUOTA: String(SWEEP_10K_CONCURRENCY),
    },
  },
};
/** One sweep in a fresh process: its wall time, peak RSS (bench/rss-probe.mjs, on fd 3) and its JSON. */
const runSweep = (size) => {
  const { args: sweepArgs, env } = SWEEPS[size];
  const started = performance.now();
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(path.join(root, 'bench/rss-probe.mjs')).href,
      path.join(root, 'packages/simulator/bin/tradai-sim.mjs'),
      'backtest-sweep',
      ...sweepArgs,
      '--json',
    ],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  const wall = performance.now() - started;
  if (run.status !== 0)
    throw new Error(
      `The ${size}-variant sweep failed:\n${run.stdout.slice(0, 2000)}\n${run.stderr.slice(0, 2000)}`,
    );
  return { wall, rssBytes: Number(run.output[3]) * 1024, result: JSON.parse(run.stdout) };
};
const mb = (bytes) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
const verdict = (ok) => (ok ? 'ok' : 'MISSED');
const sweepTimes = {};
let sweepsOk = true;
console.log('\nParameter sweeps (backtest-sweep on the local Distributed Map, a fresh process each):');
for (const size of [1000, 10000]) {
  if (!wantedSweeps.includes(size)) {
    console.log(`  ${SWEEPS[size].label}: SKIPPED (--sweeps ${wantedSweeps.join(',')})`);
    continue;
  }
  const { wall, rssBytes, result } = runSweep(size);
  const budget = SWEEP_BUDGETS[size];
  const ok = wall <= budget && rssBytes <= SWEEP_RSS_BUDGET_BYTES;
  sweepsOk &&= ok;
  sweepTimes[size] = wall;
  console.log(
    `  ${SWEEPS[size].label}: ${ms(wall)} ms wall (the run itself ${result.real_ms} ms), peak RSS ${mb(rssBytes)}, ` +
      `${(result.simulated_ms / 3_600_000).toFixed(1)} h simulated, $${result.bill.per_execution_usd.toFixed(2)}; ` +
      `budget <= ${budget} ms and <= ${mb(SWEEP_RSS_BUDGET_BYTES)}: ${verdict(ok)} ` +
      `(${(wall / budget).toFixed(2)} x time budget, ${(rssBytes / SWEEP_RSS_BUDGET_BYTES).toFixed(2)} x RSS budget)`,
  );
}
if (sweepTimes[1000] !== undefined && sweepTimes[10000] !== undefined) {
  const ratio = sweepTimes[10000] / (10 * sweepTimes[1000]);
  sweepsOk &&= ratio <= SWEEP_RATIO_BUDGET;
  console.log(
    `  10,000 vs 1,000 variants: ${ms(sweepTimes[10000])} ms / (10 x ${ms(sweepTimes[1000])} ms) = ${ratio.toFixed(2)} ` +
      `(linear or better: budget <= ${SWEEP_RATIO_BUDGET.toFixed(1)}): ${verdict(ratio <= SWEEP_RATIO_BUDGET)} ` +
      `(${(ratio / SWEEP_RATIO_BUDGET).toFixed(2)} x budget)`,
  );
} else {
  console.log('  10,000 vs 1,000 variants: SKIPPED (needs both sweeps)');
}

if (rows.some((row) => !row.sdk)) {
  console.log(
    'A function with no AWS SDK client loads the same zod, Powertools and middy code in both builds: its ratio\n' +
      'stays near 1 whatever the build options; its absolute init is the number to watch.',
  );
}
if (
  strict &&
  (table.some((row) => !row.ok) || triggerRatio >= 2 || startMedian > START_BUDGET_MS || !sweepsOk)
)
  process.exit(1);
