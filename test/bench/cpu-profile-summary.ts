/**
 * Where a process spent its CPU: the self time of a V8 .cpuprofile (see --profile-dir of
 * bench:saga) summed by package or project folder, then the busiest functions.
 *
 *   npx tsx test/bench/cpu-profile-summary.ts FILE.cpuprofile [--top 25] [--skip-seconds 30]
 *
 * --skip-seconds leaves out the first seconds of the profile (start-up, bundling, warm-up).
 */
import { readFileSync } from 'node:fs';
import { numberArgument } from './bench-support';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `@temporalio/worker`, `project: lib`, `node:internal`, `(garbage collector)`… */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scopeOrName, name] = url.slice(modules + 'node_modules/'.length).split('/');
    return scopeOrName?.startsWith('@') ? `${scopeOrName}/${name ?? ''}` : scopeOrName ?? url;
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const project = url.match(/\/(lib|activities|workflows|services|infra|test)\//);
  if (project) return `project: ${project[1]}`;
  return url;
}

function main(): void {
  const file = process.argv[2];
  if (!file || file.startsWith('--')) throw new Error('usage: cpu-profile-summary FILE.cpuprofile [--top N]');
  const top = numberArgument('top', 25);
  const skipUs = process.argv.includes('--skip-seconds') ? numberArgument('skip-seconds', 1) * 1e6 : 0;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at - profile.startTime >= skipUs) selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + delta);
  });
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const [nodeId, us] of selfUs) {
    const frame = nodes.get(nodeId)?.callFrame;
    if (!frame || frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    busyUs += us;
    const place = placeOf(frame.url, frame.functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'}  ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(lib|activities|workflows|services)\//, '$1/')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const wallUs = profile.endTime - profile.startTime - skipUs;
  console.log(`${file}: ${(busyUs / 1e6).toFixed(1)} s of JavaScript and GC in ${(wallUs / 1e6).toFixed(1)} s (idle and (program) left out)`);
  const print = (title: string, table: Map<string, number>, rows: number): void => {
    console.log(`\n${title}`);
    for (const [name, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`  ${((us / busyUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${name}`);
    }
  };
  print('by package or folder', byPlace, 20);
  print('by function', byFunction, top);
}

main();
