import { join } from 'node:path';
import { startCluster, type RunningCluster } from '../cluster';
import { localPlanFromEnv } from '../local-plan';
import { consoleLogSink, formatTable } from '../terminal';

const projectRoot = join(__dirname, '..', '..');

function summary(cluster: RunningCluster): string {
  const rows = cluster.components().map((component) => [component.name, component.endpoint, component.consoleUrl ?? '', component.dataDir ?? '']);
  const table = formatTable(['process', 'address', 'open in a browser', 'data'], rows);
  return `${table}\n\nTemporal Web UI: ${cluster.webUiUrl ?? '(disabled)'}\nData folder: ${cluster.plan.dataDir}   (npm run start:fresh starts from empty data)\nCtrl-C stops everything.`;
}

async function main(): Promise<void> {
  const fresh = process.argv.includes('--fresh');
  const startedAt = Date.now();
  const plan = localPlanFromEnv(process.env, projectRoot);
  const sink = consoleLogSink();
  console.log(`[launcher] starting ${plan.banks.length} bank nodes and Temporal${fresh ? ' from empty data' : ''} in ${plan.dataDir}`);
  const cluster = await startCluster(plan, { fresh, sink, log: (line) => console.log(`[launcher] ${line}`) });
  console.log(`\n${summary(cluster)}\n[launcher] ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[launcher] ${signal}: stopping every process`);
    await cluster.stop();
    console.log('[launcher] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  for (const component of cluster.components()) {
    void component.process.exited.then((exit) => {
      if (!stopping) console.error(`[launcher] ${component.name} exited unexpectedly (code ${exit.code}, signal ${exit.signal}); the rest keeps running`);
    });
  }
}

main().catch((error: unknown) => {
  console.error(`[launcher] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
