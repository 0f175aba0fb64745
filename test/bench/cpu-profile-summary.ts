/**
 * Summary of a V8 .cpuprofile (as written by `node --cpu-prof`, e.g. by `dispatch.ts --profile`):
 * wall time, idle and GC share, and the functions and files with the most self time.
 *
 *   node --import tsx test/bench/cpu-profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, 'bucket-s': { type: 'string', default: '10' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [--top N]');
const top = Number(values.top);
const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

/** A short place name: the path under the repo or node_modules, or node's own module. */
function place(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const repo = url.indexOf('/test/') >= 0 ? url.slice(url.indexOf('/test/') + 1) : url;
  return repo.replace(/^file:\/\/.*?\/(shared|scheduler|runner|collector|info-service|cli)\//, '$1/');
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let idle = 0;
let gc = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') idle += us;
  if (functionName === '(garbage collector)') gc += us;
  const name = `${functionName || '(anonymous)'} ${place(url)}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const where = place(url).split(':')[0] ?? '';
  const pkg = where.startsWith('.') || where.startsWith('(') ? where : where.split('/').slice(0, 2).join('/');
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
}

const pct = (us: number): string => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const secs = (us: number): string => `${(us / 1e6).toFixed(2).padStart(7)} s`;
console.log(`${file}`);
console.log(
  `  wall ${secs(totalUs)}   busy ${secs(totalUs - idle)} (${pct(totalUs - idle)})   idle ${pct(idle)}   GC ${pct(gc)}`,
);
const show = (title: string, entries: Map<string, number>): void => {
  console.log(`  ${title}`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`    ${pct(us)} ${secs(us)}  ${name}`);
  }
};
show('self time by function', byFunction);
show('self time by package / file', byFile);

// Busy share over time: where the process was saturated, and where it waited.
const bucketUs = Number(values['bucket-s']) * 1e6;
const busyByBucket: number[] = [];
let clock = profile.startTime;
profile.samples.forEach((id, i) => {
  clock += profile.timeDeltas[i] ?? 0;
  const bucket = Math.floor((clock - profile.startTime) / bucketUs);
  if (byId.get(id)?.callFrame.functionName !== '(idle)') {
    busyByBucket[bucket] = (busyByBucket[bucket] ?? 0) + (profile.timeDeltas[i] ?? 0);
  }
});
console.log(`  busy share per ${values['bucket-s']} s from the start`);
console.log(
  `    ${Array.from({ length: Math.ceil(totalUs / bucketUs) }, (_, b) => `${Math.round((100 * (busyByBucket[b] ?? 0)) / bucketUs)}%`).join(' ')}`,
);

// Self time of the runtime and libraries, charged to the nearest frame of our own code above it.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const ours = (url: string): boolean =>
  /\/(shared|scheduler|runner|collector|info-service|cli)\//.test(url) && !url.includes('node_modules');
const byOurFrame = new Map<string, number>();
for (const [id, us] of selfUs) {
  let node = byId.get(id);
  if (!node || node.callFrame.functionName === '(idle)') continue;
  while (node && !ours(node.callFrame.url)) node = byId.get(parent.get(node.id) ?? -1);
  const name = node
    ? `${node.callFrame.functionName || '(anonymous)'} ${place(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
    : '(no frame of ours: library callbacks, timers, sockets)';
  byOurFrame.set(name, (byOurFrame.get(name) ?? 0) + us);
}
show('busy time charged to the nearest frame of our code', byOurFrame);
