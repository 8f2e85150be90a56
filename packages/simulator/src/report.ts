/*
 * A run as one self-contained HTML page: the machine's graph laid out from its ASL by ELK (as the
 * Step Functions console's graph view does), the path taken, what failed, was caught or retried,
 * a timeline on simulated time, each state's input and output, the world's changes and the bill.
 * No network: styles, data and the little script are inline; the graph is SVG drawn here.
 */
import {
  type AslDefinition,
  type AslState,
  type Bill,
  type MachineName,
  PRICES,
  readAsl,
  type StateEvent,
  type WorkflowRun,
} from '@tradai/local-aws';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk.bundled.js';
import { simulated, usd } from './format';

const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7.2;
const START = '__start';
const END = '__end';

interface EdgeMeta {
  kind: 'next' | 'choice' | 'catch' | 'end';
  label?: string;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

/** Where a state may go next, as the console draws it: Next, Choices, Default, Catch, End. */
const transitionsOf = (name: string, state: AslState): [string, string, EdgeMeta][] => {
  const out: [string, string, EdgeMeta][] = [];
  if (state.Next) out.push([name, state.Next, { kind: 'next' }]);
  for (const choice of state.Choices ?? []) out.push([name, String(choice.Next), { kind: 'choice' }]);
  if (state.Default) out.push([name, state.Default, { kind: 'choice', label: 'default' }]);
  for (const catcher of state.Catch ?? [])
    out.push([name, catcher.Next, { kind: 'catch', label: catcher.ErrorEquals.join(', ') }]);
  if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') out.push([name, END, { kind: 'end' }]);
  return out;
};

/** The ELK graph of a definition: a node per state, a compound node per Parallel, its branches inside. */
const elkGraphOf = (definition: AslDefinition, metas: Map<string, EdgeMeta>) => {
  let edgeCount = 0;
  const edge = (from: string, to: string, meta: EdgeMeta): ElkExtendedEdge => {
    const id = `e${edgeCount++}`;
    metas.set(id, meta);
    return { id, sources: [from], targets: [to] };
  };
  const nodesOf = (
    states: Record<string, AslState>,
    top: boolean,
  ): { children: ElkNode[]; edges: ElkExtendedEdge[] } => {
    const children: ElkNode[] = [];
    const edges: ElkExtendedEdge[] = [];
    for (const [name, state] of Object.entries(states)) {
      const width = Math.max(90, name.length * CHAR_WIDTH + 28);
      if (state.Type === 'Parallel' && state.Branches) {
        const inner = state.Branches.map((branch) => nodesOf(branch.States, false));
        children.push({
          id: name,
          layoutOptions: { 'elk.padding': '[top=30,left=12,bottom=12,right=12]' },
          children: inner.flatMap((b) => b.children),
          edges: inner.flatMap((b) => b.edges),
        });
      } else {
        children.push({ id: name, width, height: NODE_HEIGHT });
      }
      for (const [from, to, meta] of transitionsOf(name, state)) {
        if (to === END && !top) continue; // a branch's end is its Parallel's
        edges.push(edge(from, to, meta));
      }
    }
    return { children, edges };
  };
  const { children, edges } = nodesOf(definition.States, true);
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '34',
      'elk.spacing.nodeNode': '26',
      'elk.spacing.edgeNode': '14',
      'elk.spacing.edgeEdge': '6',
      // Keep the ASL's order: the main path first, the failure handling after it.
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      // Network simplex packs the failure handling beside the main path: the backtest graph is about
      // 1,500 px wide instead of 2,080 with Brandes-Koepf, so it is drawn larger when scaled to its panel.
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
    },
    children: [{ id: START, width: 60, height: 28 }, ...children, { id: END, width: 60, height: 28 }],
    edges: [edge(START, definition.StartAt, { kind: 'next' }), ...edges],
  } satisfies ElkNode;
};

/** What happened to each state in a run: visits, retries, and how it ended. */
interface StateStatus {
  visits: number;
  retries: number;
  outcome: 'succeeded' | 'caught' | 'failed' | 'running';
  error?: string;
}
const statusesOf = (events: readonly StateEvent[]) => {
  const statuses = new Map<string, StateStatus>();
  for (const event of events) {
    const status = statuses.get(event.state) ?? { visits: 0, retries: 0, outcome: 'running' };
    if (event.event === 'entered') status.visits++;
    if (event.event === 'retried') status.retries++;
    if (event.event === 'exited') status.outcome = 'succeeded';
    if (event.event === 'caught') status.outcome = 'caught';
    if (event.event === 'failed') {
      status.error = event.error ?? status.error;
      if (status.outcome !== 'caught') status.outcome = 'failed';
    }
    statuses.set(event.state, status);
  }
  // A state still open at the end failed with the execution (its Fail, or what ended it).
  for (const status of statuses.values()) if (status.outcome === 'running') status.outcome = 'failed';
  return statuses;
};

/** The transitions a run took: from each state to the one entered after it ended. */
const takenOf = (events: readonly StateEvent[]) => {
  const taken = new Set<string>();
  const entered = events.filter((e) => e.event === 'entered').map((e) => e.state);
  if (entered[0]) taken.add(`${START}>${entered[0]}`);
  for (let i = 1; i < entered.length; i++) taken.add(`${entered[i - 1]}>${entered[i]}`);
  const last = entered.at(-1);
  if (last) taken.add(`${last}>${END}`);
  return taken;
};

const svgOfGraph = (
  laid: ElkNode,
  definition: AslDefinition,
  metas: Map<string, EdgeMeta>,
  statuses: Map<string, StateStatus>,
  taken: Set<string>,
  machine: string,
): string => {
  const types = new Map<string, string>();
  const collect = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      types.set(name, state.Type);
      for (const branch of state.Branches ?? []) collect(branch.States);
    }
  };
  collect(definition.States);
  const parts: string[] = [];
  const drawEdges = (node: ElkNode) => {
    for (const e of node.edges ?? []) {
      const meta = metas.get(e.id) ?? { kind: 'next' };
      const from = e.sources[0] as string;
      const to = e.targets[0] as string;
      // A Catch is taken only by a state that was caught; any other edge, by the order of entries.
      const isTaken =
        meta.kind === 'catch'
          ? statuses.get(from)?.outcome === 'caught' && statuses.has(to)
          : taken.has(`${from}>${to}`);
      for (const section of e.sections ?? []) {
        const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
        parts.push(
          `<polyline class="edge ${meta.kind}${isTaken ? ' taken' : ''}" points="${points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" marker-end="url(#arrow${isTaken ? '-taken' : ''})"/>`,
        );
      }
    }
  };
  const drawNode = (node: ElkNode) => {
    const x = node.x ?? 0;
    const y = node.y ?? 0;
    const w = node.width ?? 0;
    const h = node.height ?? 0;
    if (node.id === START || node.id === END) {
      parts.push(
        `<g class="terminal" transform="translate(${x},${y})"><rect width="${w}" height="${h}" rx="${h / 2}"/><text x="${w / 2}" y="${h / 2 + 4}">${node.id === START ? 'Start' : 'End'}</text></g>`,
      );
      return;
    }
    const status = statuses.get(node.id);
    const cls = status ? `visited ${status.outcome}` : 'unvisited';
    const badge =
      status && status.retries > 0
        ? `<text class="badge" x="${w - 6}" y="-4">retried ${status.retries}x</text>`
        : '';
    const visits = status && status.visits > 1 ? ` &#215;${status.visits}` : '';
    const title = `${node.id} (${types.get(node.id) ?? ''})${status ? `: ${status.outcome}${status.error ? ` ${status.error}` : ''}` : ': not run'}`;
    if (node.children?.length) {
      parts.push(
        `<g class="state parallel ${cls}" data-state="${escapeHtml(node.id)}" data-machine="${machine}" tabindex="0" transform="translate(${x},${y})"><title>${escapeHtml(title)}</title><rect width="${w}" height="${h}" rx="6"/><text class="label" x="10" y="19">${escapeHtml(node.id)}${visits}</text>${badge}`,
      );
      for (const child of node.children) drawNode(child);
      drawEdges(node);
      parts.push('</g>');
      return;
    }
    parts.push(
      `<g class="state ${cls}" data-state="${escapeHtml(node.id)}" data-machine="${machine}" tabindex="0" transform="translate(${x},${y})"><title>${escapeHtml(title)}</title><rect width="${w}" height="${h}" rx="6"/><text x="${w / 2}" y="${h / 2 + 4}">${escapeHtml(node.id)}${visits}</text>${badge}</g>`,
    );
  };
  for (const child of laid.children ?? []) drawNode(child);
  drawEdges(laid);
  const width = Math.ceil((laid.width ?? 400) + 20);
  const height = Math.ceil((laid.height ?? 400) + 20);
  // width and height are the graph's natural size: CSS scales it down, as an image, to fit its panel
  // and the screen; the page's script zooms and pans by moving the viewBox.
  return `<div class="graph-frame"><div class="zoom" role="toolbar" aria-label="Zoom the ${escapeHtml(machine)} graph"><button type="button" data-zoom="in" aria-label="Zoom in">+</button><button type="button" data-zoom="out" aria-label="Zoom out">&#8722;</button><button type="button" data-zoom="fit" aria-label="Show the whole graph">Fit</button></div>
<svg class="graph" viewBox="-10 -10 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(machine)} state machine">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#8a94a6"/></marker><marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#1d6fd8"/></marker></defs>
${parts.join('\n')}
</svg></div>`;
};

/** The machine's graph, laid out by ELK, with the run's path on it: an SVG in a frame with zoom buttons. */
export const graphSvg = async (machine: MachineName, events: readonly StateEvent[]): Promise<string> => {
  const definition = readAsl(machine);
  const metas = new Map<string, EdgeMeta>();
  // ELK is 1.5 MB: loaded only when a report is written.
  const { default: ELK } = await import('elkjs/lib/elk.bundled.js');
  const laid = await new ELK().layout(elkGraphOf(definition, metas));
  return svgOfGraph(laid, definition, metas, statusesOf(events), takenOf(events), machine);
};

/** One bar per state visit, on simulated time. */
const timelineOf = (events: readonly StateEvent[], machine: string) => {
  const visits: { state: string; type: string; start: number; end: number; outcome: string }[] = [];
  const open = new Map<string, (typeof visits)[number]>();
  for (const event of events) {
    if (event.event === 'entered') {
      const visit = {
        state: event.state,
        type: event.type,
        start: event.worldTime,
        end: event.worldTime,
        outcome: 'failed',
      };
      visits.push(visit);
      open.set(event.state, visit);
    } else if (event.event === 'exited' || event.event === 'caught' || event.event === 'failed') {
      const visit = open.get(event.state);
      if (!visit) continue;
      visit.end = event.worldTime;
      visit.outcome = event.event === 'exited' ? 'succeeded' : event.event;
      if (event.event !== 'failed') open.delete(event.state);
    }
  }
  const t0 = Math.min(...visits.map((v) => v.start));
  const span = Math.max(1, Math.max(...visits.map((v) => v.end)) - t0);
  const rows = visits.map((v) => {
    const left = ((v.start - t0) / span) * 100;
    const width = Math.max(0.4, ((v.end - v.start) / span) * 100);
    return `<div class="row" data-state="${escapeHtml(v.state)}" data-machine="${machine}"><span class="name">${escapeHtml(v.state)}</span><span class="track"><span class="bar ${v.outcome}" style="left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%"></span></span><span class="dur">+${simulated(v.start - t0)} &#183; ${simulated(v.end - v.start)}</span></div>`;
  });
  return `<div class="timeline">${rows.join('\n')}</div>`;
};

export interface ReportInput {
  run: WorkflowRun;
  bill: Bill;
  perMonth: number;
  title: string;
}

/** Per machine and state: the inputs and outputs of its visits, for the page's details panel. */
const dataOf = (run: WorkflowRun) => {
  const all: Record<string, Record<string, { input: unknown[]; output: unknown[] }>> = {};
  const add = (machine: string, events: readonly StateEvent[]) => {
    const states: Record<string, { input: unknown[]; output: unknown[] }> = {};
    for (const e of events) {
      const entry = states[e.state] ?? { input: [], output: [] };
      if (e.event === 'entered') entry.input.push(e.data ?? null);
      if (e.event === 'exited') entry.output.push(e.data ?? null);
      states[e.state] = entry;
    }
    all[machine] = states;
  };
  add(run.machine, run.events);
  for (const nested of run.nested) add(nested.machine, nested.events);
  return all;
};

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b2330;background:#f6f7f9}
header{padding:18px 28px;background:#fff;border-bottom:1px solid #e1e4ea}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:26px 0 10px}
.status{font-weight:600;padding:2px 8px;border-radius:10px}.status.SUCCEEDED{background:#dff5e3;color:#17692b}
.status.FAILED,.status.TIMED_OUT,.status.ABORTED{background:#fde2e1;color:#a1201b}
h1,h2,code{overflow-wrap:anywhere}
main{display:grid;grid-template-columns:minmax(0,1fr) 380px;gap:24px;padding:0 28px 40px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:6px 18px 16px;margin-top:18px;overflow:auto}
.graph-frame{position:relative}
.graph{display:block;margin:0 auto;width:auto;height:auto;max-width:100%;max-height:78vh;user-select:none}
.zoom{position:absolute;top:0;left:0;z-index:1;display:flex;gap:4px}
.zoom button{min-width:30px;height:30px;padding:0 8px;font:600 15px/1 system-ui,sans-serif;color:#1b2330;background:#fff;border:1px solid #c4cad4;border-radius:6px;cursor:pointer}
.zoom button:hover{background:#eef0f4}
.graph-frame.zoomed .graph{outline:1px solid #e1e4ea;cursor:grab;touch-action:pinch-zoom}.graph-frame.dragging .graph{cursor:grabbing}
.graph text{font-size:12px;text-anchor:middle;fill:#1b2330}.graph .label{text-anchor:start;font-weight:600}
.state rect{fill:#fff;stroke:#b6bdc9;stroke-width:1.2}.state{cursor:pointer}
.state.unvisited text{fill:#8a94a6}.state.unvisited rect{stroke-dasharray:3 3}
.state.succeeded rect{fill:#e7f6ea;stroke:#2f9e44;stroke-width:2}
.state.caught rect{fill:#fff4de;stroke:#e0a100;stroke-width:2}
.state.failed rect{fill:#fde2e1;stroke:#d9302c;stroke-width:2}
.state.parallel>rect{fill-opacity:.35}.state.selected>rect{stroke:#1d6fd8;stroke-width:3}
.badge{font-size:10.5px!important;text-anchor:end!important;fill:#9a6400!important;font-weight:600}
.terminal rect{fill:#1b2330}.terminal text{fill:#fff;font-weight:600}
.edge{fill:none;stroke:#aab2c0;stroke-width:1.2}.edge.catch{stroke-dasharray:5 4}
.edge.taken{stroke:#1d6fd8;stroke-width:2.4}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;vertical-align:-1px;border:1.5px solid}
.timeline .row{display:grid;grid-template-columns:220px 1fr 130px;gap:8px;align-items:center;font-size:12.5px;padding:2px 0;cursor:pointer}
.timeline .track{position:relative;height:12px;background:#eef0f4;border-radius:6px}
.timeline .bar{position:absolute;top:0;height:12px;border-radius:6px;background:#2f9e44}
.timeline .bar.caught{background:#e0a100}.timeline .bar.failed{background:#d9302c}
.timeline .dur{color:#5b6578;font-variant-numeric:tabular-nums}
aside{position:sticky;top:10px;align-self:start;max-height:96vh;overflow:auto}
pre{background:#f3f5f8;border-radius:6px;padding:8px;font-size:12px;white-space:pre-wrap;word-break:break-word;max-height:340px;overflow:auto}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{padding:4px 6px;border-bottom:1px solid #eef0f4;text-align:left}
td:nth-child(2){overflow-wrap:anywhere}td.num,th.num{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
ul{padding-left:18px;margin:6px 0}li{margin:2px 0;word-break:break-all}.muted{color:#5b6578}
.close{display:none}
/* Narrower than the graph and the details side by side: one column. The details would then land
   below everything, so they open as a sheet over the foot of the screen when a state is chosen. */
@media (max-width:1100px){
main{grid-template-columns:minmax(0,1fr)}
aside{position:fixed;top:auto;left:0;right:0;bottom:0;z-index:2;max-height:55vh;display:none;flex-direction:column;overflow:visible;box-shadow:0 -4px 18px rgba(27,35,48,.2)}
aside.open{display:flex}aside section{margin:0;min-height:0;border-radius:10px 10px 0 0}aside h2{padding-right:40px}
.close{display:block;position:absolute;top:10px;right:12px;z-index:1;width:32px;height:32px;font-size:20px;line-height:1;color:#1b2330;background:#fff;border:1px solid #c4cad4;border-radius:6px;cursor:pointer}
}
@media (max-width:640px){
header{padding:12px 14px}h1{font-size:18px}
main{padding:0 10px 24px}section{padding:4px 12px 12px}
.timeline .row{grid-template-columns:minmax(0,1fr) auto;gap:2px 8px}
.timeline .track{grid-column:1/-1;grid-row:2}.timeline .name{overflow-wrap:anywhere}
}
`;

const SCRIPT = `
// Pan and zoom: the SVG keeps its place and size on the page; its viewBox, the part of the graph it
// shows, moves. The view keeps the graph's proportions and never leaves the graph.
const reveals = new Map();
document.querySelectorAll('.graph-frame').forEach((frame) => {
  const svg = frame.querySelector('svg');
  const base = svg.viewBox.baseVal;
  const whole = { x: base.x, y: base.y, w: base.width, h: base.height };
  let view = { ...whole };
  const set = (next) => {
    const w = Math.min(whole.w, Math.max(whole.w / 10, next.w));
    const h = (w * whole.h) / whole.w;
    const x = Math.min(whole.x + whole.w - w, Math.max(whole.x, next.x));
    const y = Math.min(whole.y + whole.h - h, Math.max(whole.y, next.y));
    view = { x, y, w, h };
    svg.setAttribute('viewBox', [x, y, w, h].join(' '));
    frame.classList.toggle('zoomed', w < whole.w);
  };
  const perPx = () => view.w / svg.getBoundingClientRect().width;
  const pointOf = (event) => {
    const r = svg.getBoundingClientRect();
    return { x: view.x + (event.clientX - r.left) * perPx(), y: view.y + (event.clientY - r.top) * perPx() };
  };
  // Zooms by k, keeping the point at (cx, cy) where it is on the screen.
  const zoom = (k, cx = view.x + view.w / 2, cy = view.y + view.h / 2) =>
    set({ x: cx - (cx - view.x) / k, y: cy - (cy - view.y) / k, w: view.w / k });
  frame.querySelectorAll('[data-zoom]').forEach((button) =>
    button.addEventListener('click', () => {
      const how = button.dataset.zoom;
      if (how === 'fit') set(whole);
      else zoom(how === 'in' ? 1.5 : 1 / 1.5);
    }),
  );
  // A plain wheel scrolls the page, as everywhere else; Ctrl + wheel (and a trackpad's pinch) zooms.
  svg.addEventListener('wheel', (event) => {
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    const at = pointOf(event);
    zoom(Math.exp(-event.deltaY / 300), at.x, at.y);
  }, { passive: false });
  // Dragging a zoomed graph moves it. The pointer is captured only once it has moved, so a plain
  // click still reaches the state under it; the click that ends a drag selects nothing.
  let press = null;
  let dragged = false;
  svg.addEventListener('pointerdown', (event) => {
    dragged = false;
    if (event.button === 0 && frame.classList.contains('zoomed'))
      press = { id: event.pointerId, x: event.clientX, y: event.clientY, view: { ...view } };
  });
  svg.addEventListener('pointermove', (event) => {
    if (!press || event.pointerId !== press.id) return;
    const dx = event.clientX - press.x;
    const dy = event.clientY - press.y;
    if (!dragged && Math.hypot(dx, dy) < 4) return;
    if (!dragged) {
      dragged = true;
      svg.setPointerCapture(event.pointerId);
      frame.classList.add('dragging');
    }
    set({ x: press.view.x - dx * perPx(), y: press.view.y - dy * perPx(), w: press.view.w });
  });
  const release = () => {
    press = null;
    frame.classList.remove('dragging');
  };
  svg.addEventListener('pointerup', release);
  svg.addEventListener('pointercancel', release);
  svg.addEventListener('click', (event) => { if (dragged) event.stopPropagation(); }, true);
  // A state chosen elsewhere (the timeline) but outside the view: the view moves to it.
  reveals.set(svg, (node) => {
    const s = svg.getBoundingClientRect();
    const r = node.getBoundingClientRect();
    const box = { x: view.x + (r.left - s.left) * perPx(), y: view.y + (r.top - s.top) * perPx(), w: r.width * perPx(), h: r.height * perPx() };
    const seen = box.x >= view.x && box.y >= view.y && box.x + box.w <= view.x + view.w && box.y + box.h <= view.y + view.h;
    if (!seen) set({ x: box.x + box.w / 2 - view.w / 2, y: box.y + box.h / 2 - view.h / 2, w: view.w });
  });
});

const data = JSON.parse(document.getElementById('run-data').textContent);
const panel = document.getElementById('details');
const aside = panel.parentElement;
aside.querySelector('.close').addEventListener('click', () => aside.classList.remove('open'));
document.addEventListener('keydown', (event) => { if (event.key === 'Escape') aside.classList.remove('open'); });
const show = (machine, state) => {
  document.querySelectorAll('.state.selected').forEach((n) => n.classList.remove('selected'));
  document.querySelectorAll('.state[data-machine="' + machine + '"]').forEach((n) => {
    if (n.dataset.state !== state) return;
    n.classList.add('selected');
    reveals.get(n.ownerSVGElement)?.(n);
  });
  // On a narrow screen the details are a sheet, closed until a state is chosen.
  aside.classList.add('open');
  const entry = (data[machine] || {})[state];
  const pretty = (v) => JSON.stringify(v, null, 2);
  panel.replaceChildren();
  const h = document.createElement('h2');
  h.textContent = state + ' (' + machine + ')';
  panel.append(h);
  if (!entry) { const p = document.createElement('p'); p.textContent = 'Not run.'; panel.append(p); return; }
  for (const [label, values] of [['Input', entry.input], ['Output', entry.output]]) {
    values.forEach((value, i) => {
      const t = document.createElement('h3'); t.textContent = label + (values.length > 1 ? ' #' + (i + 1) : '');
      const pre = document.createElement('pre'); pre.textContent = pretty(value);
      panel.append(t, pre);
    });
    if (values.length === 0) { const p = document.createElement('p'); p.className = 'muted'; p.textContent = label + ': none (the state did not end normally)'; panel.append(p); }
  }
};
document.querySelectorAll('[data-state]').forEach((node) => {
  node.addEventListener('click', (event) => { event.stopPropagation(); show(node.dataset.machine, node.dataset.state); });
  node.addEventListener('keydown', (event) => { if (event.key === 'Enter') show(node.dataset.machine, node.dataset.state); });
});
`;

/** The HTML page of a run. */
export const renderReport = async ({ run, bill, perMonth, title }: ReportInput): Promise<string> => {
  // A sweep starts hundreds of executions: the first few are drawn, the rest counted.
  const SHOWN_NESTED = 3;
  const graphs = [
    { machine: run.machine, name: run.end.name, status: run.status, events: run.events },
    ...run.nested
      .slice(0, SHOWN_NESTED)
      .map((n) => ({ machine: n.machine, name: n.name, status: n.status, events: n.events })),
  ];
  const unshown = run.nested.slice(SHOWN_NESTED);
  const sections: string[] = [];
  for (const g of graphs) {
    sections.push(`<section class="execution" data-machine="${g.machine}">
<h2>${g === graphs[0] ? 'Execution' : 'Nested execution'} ${escapeHtml(g.name)}: <code>${g.machine}</code> <span class="status ${g.status}">${g.status}</span></h2>
${await graphSvg(g.machine, g.events)}
<p class="legend"><span><i style="background:#e7f6ea;border-color:#2f9e44"></i>succeeded</span><span><i style="background:#fff4de;border-color:#e0a100"></i>failed, caught</span><span><i style="background:#fde2e1;border-color:#d9302c"></i>failed</span><span><i style="background:#fff;border-color:#b6bdc9"></i>not run</span><span class="muted">blue: the path taken; dashed: a Catch. Click a state for its input and output; zoom with the buttons or Ctrl + wheel, drag to move.</span></p>
<h2>Timeline (simulated time)</h2>
${timelineOf(g.events, g.machine)}
</section>`);
  }
  if (unshown.length > 0) {
    const statuses = unshown.reduce<Record<string, number>>((count, n) => {
      count[n.status] = (count[n.status] ?? 0) + 1;
      return count;
    }, {});
    sections.push(
      `<section><h2>${unshown.length} more nested executions</h2><p class="muted">${escapeHtml(
        Object.entries(statuses)
          .map(([status, count]) => `${count} ${status}`)
          .join(', '),
      )}: ${escapeHtml(
        unshown
          .map((n) => n.name)
          .join(', ')
          .slice(0, 2000),
      )}</p></section>`,
    );
  }
  const changes = run.world.changes;
  const list = (items: string[]) =>
    items.length
      ? `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`
      : '<p class="muted">none</p>';
  const world = `<section><h2>What changed in the world</h2>
<h3>S3 objects written</h3>${list(changes.flatMap((c) => (c.kind === 's3:put' ? [`${c.uri} (${c.bytes} B)`] : [])))}
<h3>S3 objects deleted</h3>${list(changes.flatMap((c) => (c.kind === 's3:delete' ? [c.uri] : [])))}
<h3>ECS</h3>${list(changes.flatMap((c) => (c.kind === 'ecs:run' ? [`task ${c.taskDefinition} on ${c.capacityProvider}, ${simulated((c.seconds ?? 0) * 1000)}`] : c.kind === 'ecs:register' ? [`registered ${c.arn}`] : c.kind === 'ecs:update-service' ? [`service ${c.service} -> ${c.taskDefinition}`] : [])))}
<h3>Records</h3>${list(changes.flatMap((c) => (c.kind === 'dynamodb:update' ? [`${c.key}: ${JSON.stringify(c.status)}`] : [])))}
<h3>Notifications and dead letters</h3>${list([...run.world.published.map((m) => `sns: ${m.subject ?? ''}`), ...run.world.queued.map((m) => `dlq: ${JSON.stringify(m.body).slice(0, 200)}`)])}
${run.provisioned.length ? `<h3>Given to the world for this request</h3>${list(run.provisioned.map((p) => `${p.kind}: ${p.detail}`))}` : ''}
</section>`;
  const billTable = `<section><h2>The bill</h2>
<table><thead><tr><th>service</th><th>item</th><th class="num">USD</th></tr></thead><tbody>
${bill.lines.map((l) => `<tr><td>${l.service}</td><td>${escapeHtml(l.item)}</td><td class="num">${usd(l.usd)}</td></tr>`).join('\n')}
<tr><th colspan="2">per execution</th><th class="num">${usd(bill.total)}</th></tr>
<tr><th colspan="2">a month at ${perMonth} executions</th><th class="num">${usd(bill.total * perMonth)}</th></tr>
</tbody></table>
<p class="muted">Prices: ${PRICES.region}, ${PRICES.asOf} (${escapeHtml(PRICES.source)}).</p></section>`;
  const outcome = run.error
    ? `<p><b>${escapeHtml(run.error.Error)}</b></p><pre>${escapeHtml(run.error.Cause.slice(0, 4000))}</pre>`
    : `<pre>${escapeHtml(JSON.stringify(run.output ?? null, null, 2))}</pre>`;
  const data = JSON.stringify(dataOf(run)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(`${run.machine} / ${title}: ${run.status}`)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(run.machine)} / ${escapeHtml(title)} <span class="status ${run.status}">${run.status}</span></h1>
<div class="muted">Simulated ${simulated(run.simulatedMs)} in ${Math.round(run.realMs)} ms on the local engine: the real ASL (state-machines/${run.machine}.asl.json) and the real handlers, on an in-memory AWS. ${bill.lines.length} bill lines, ${usd(bill.total)} per execution.</div></header>
<main><div>
${sections.join('\n')}
<section><h2>${run.status === 'SUCCEEDED' ? 'Output' : 'Error'}</h2>${outcome}</section>
${world}
${billTable}
</div>
<aside><button type="button" class="close" aria-label="Close the details">&#215;</button><section id="details"><h2>Details</h2><p class="muted">Click a state in the graph or the timeline to see its input and output.</p></section></aside>
</main>
<script type="application/json" id="run-data">${data}</script>
<script>${SCRIPT}</script>
</body></html>
`;
};
