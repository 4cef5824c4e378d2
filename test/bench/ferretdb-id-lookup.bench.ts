/**
 * Look-up cost by `_id` on FerretDB at 1k and at 100k documents. With the
 * infra/ferretdb-id-index.patch build both sizes cost the same; an unpatched build
 * scans the collection and falls far behind at 100k.
 *
 *   npm run bench:ferretdb-index [-- --lookups 2000]
 */
import { MongoClient } from 'mongodb';
import { ferretDbBinaryPath } from '../../infra/binaries';
import { findFreePort } from '../../infra/ports';
import { startFerretDb } from '../../infra/processes/ferretdb';
import { temporaryDir } from '../support/cluster';
import { numberArgument, percentile } from './bench-support';

const sizes = [1_000, 100_000] as const;
const insertBatch = 1_000;

async function main(): Promise<void> {
  const lookups = numberArgument('lookups', 2_000);
  const binary = process.env.FERRETDB_BINARY ?? (await ferretDbBinaryPath());
  const dir = await temporaryDir('bench-ferretdb');
  const database = await startFerretDb(
    { name: 'ferretdb', binary, dataDir: dir.path, host: '127.0.0.1', port: await findFreePort(), debugPort: await findFreePort() },
    () => undefined,
  );
  const client = new MongoClient(database.url);
  const results: Array<{ documents: number; perSecond: number; p50Ms: number; p99Ms: number }> = [];
  try {
    for (const size of sizes) {
      const collection = client.db('bench').collection<{ _id: string; n: number }>(`entries_${size}`);
      process.stdout.write(`seeding ${size} documents `);
      for (let start = 0; start < size; start += insertBatch) {
        await collection.insertMany(Array.from({ length: Math.min(insertBatch, size - start) }, (_, i) => ({ _id: `account-1:${start + i}`, n: start + i })));
        if ((start / insertBatch) % 10 === 0) process.stdout.write('.');
      }
      process.stdout.write('\n');
      for (let warm = 0; warm < 100; warm += 1) await collection.findOne({ _id: `account-1:${warm}` });
      const timesMs: number[] = [];
      const startedAt = performance.now();
      for (let i = 0; i < lookups; i += 1) {
        const key = `account-1:${(i * 7919) % size}`;
        const before = performance.now();
        const found = await collection.findOne({ _id: key });
        timesMs.push(performance.now() - before);
        if (!found) throw new Error(`document ${key} missing`);
      }
      const elapsedS = (performance.now() - startedAt) / 1000;
      timesMs.sort((a, b) => a - b);
      results.push({ documents: size, perSecond: lookups / elapsedS, p50Ms: percentile(timesMs, 0.5), p99Ms: percentile(timesMs, 0.99) });
    }
  } finally {
    await client.close();
    await database.process.stop();
    await dir.remove();
  }
  console.log(`\nFerretDB _id look-ups (${binary})`);
  console.log('documents   look-ups/s   p50 ms   p99 ms');
  for (const row of results) {
    console.log(`${String(row.documents).padStart(9)}   ${row.perSecond.toFixed(0).padStart(10)}   ${row.p50Ms.toFixed(2).padStart(6)}   ${row.p99Ms.toFixed(2).padStart(6)}`);
  }
  const [small, large] = results;
  if (small && large) console.log(`\np50 at ${large.documents} / p50 at ${small.documents}: ${(large.p50Ms / small.p50Ms).toFixed(2)}x`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
