import { ensureBinaries, InfraBuildError } from '../binaries';
import { ensureClusterBinaries } from '../cluster-binaries';

async function main(): Promise<void> {
  const startedAt = Date.now();
  const log = (line: string): void => console.log(`[infra] ${line}`);
  const paths = await ensureBinaries(log);
  // The cluster profile's server and schema tool share most of the CLI's Go build cache, so they come after it.
  const cluster = await ensureClusterBinaries(log);
  console.log(`[infra] binaries ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${paths.temporal}, ${paths.ferretDb}, ${cluster.server}, ${cluster.sqlTool}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof InfraBuildError ? `[infra] ${error.message}` : error);
  process.exit(1);
});
