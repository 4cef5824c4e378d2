import { ensureBinaries, InfraBuildError } from '../binaries';

async function main(): Promise<void> {
  const startedAt = Date.now();
  const paths = await ensureBinaries((line) => console.log(`[infra] ${line}`));
  console.log(`[infra] binaries ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${paths.temporal}, ${paths.ferretDb}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof InfraBuildError ? `[infra] ${error.message}` : error);
  process.exit(1);
});
