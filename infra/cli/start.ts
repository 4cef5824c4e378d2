import { join } from 'node:path';
import { startCluster, type ClusterPlan, type RunningCluster } from '../cluster';
import { localPlanFromEnv, temporalProfileOf } from '../local-plan';
import { consoleLogSink, formatTable } from '../terminal';

const projectRoot = join(__dirname, '..', '..');

function summary(cluster: RunningCluster): string {
  const rows = cluster.components().map((component) => [component.name, component.endpoint, component.consoleUrl ?? '', component.dataDir ?? '']);
  const table = formatTable(['process', 'address', 'open in a browser', 'data'], rows);
  const lines = [table, '', `Temporal Web UI: ${cluster.webUiUrl ?? '(disabled)'}`];
  if (cluster.transferApiUrl) lines.push(`Transfer API:    ${cluster.transferApiUrl}  (docs: ${cluster.transferApiUrl}/docs)`);
  if (cluster.secrets?.folder) lines.push(`Keys:            ${cluster.secrets.folder}  (api-keys.json: operator and client API keys; service-keys.json: one scoped account-service key per caller; transfer-authority.json: the key transfers and approvals are signed with; codec.json: payload codec key and codec server token)`);
  lines.push(`Data folder:     ${cluster.plan.dataDir}   (npm run start:fresh starts from empty data)`, 'Ctrl-C stops everything.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const fresh = process.argv.includes('--fresh');
  const startedAt = Date.now();
  // --temporal=cluster runs Temporal as in production: four services over PostgreSQL (docs/operations.md).
  const fullPlan = localPlanFromEnv(process.env, projectRoot, temporalProfileOf(process.argv.slice(2)));
  // --servers-only runs Temporal and the databases (every bank's, the settlement bank's and the API's) alone, for working on a service in a debugger.
  const { services, ...serversOnly } = fullPlan;
  const plan: ClusterPlan = process.argv.includes('--servers-only') ? serversOnly : { ...serversOnly, ...(services ? { services } : {}) };
  const sink = consoleLogSink();
  console.log(`[launcher] starting ${plan.banks.length} bank nodes${plan.settlementBank ? ' and the settlement bank' : ''}, Temporal${plan.temporal.cluster ? ' (cluster profile: four services over PostgreSQL)' : ''}${plan.services ? ', the worker and the transfer API' : ''}${fresh ? ' from empty data' : ''} in ${plan.dataDir}`);
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
    // Fire-and-forget: only a report for the operator; the launcher keeps the rest running.
    void component.process.exited.then((exit) => {
      if (!stopping) console.error(`[launcher] ${component.name} exited unexpectedly (code ${exit.code}, signal ${exit.signal}); the rest keeps running`);
    });
  }
}

main().catch((error: unknown) => {
  console.error(`[launcher] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
