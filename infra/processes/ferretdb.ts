import { mkdir } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { waitUntilReady } from '../readiness';
import { ManagedProcess, type LogSink } from './managed-process';

export interface FerretDbOptions {
  name: string;
  binary: string;
  dataDir: string;
  host: string;
  port: number;
  debugPort: number;
}

export interface RunningFerretDb {
  process: ManagedProcess;
  url: string;
}

const startupTimeoutMs = 30_000;

export function ferretDbArgs(options: FerretDbOptions): string[] {
  return [
    '--handler=sqlite',
    // The SQLite URI names a directory and must end with a slash.
    `--sqlite-url=file:${options.dataDir}/`,
    `--state-dir=${options.dataDir}`,
    `--listen-addr=${options.host}:${options.port}`,
    `--debug-addr=${options.host}:${options.debugPort}`,
    '--telemetry=disable',
    // At warn it logs every refused command (e.g. duplicate keys), which the ledger produces by design.
    '--log-level=error',
    '--log-format=json',
  ];
}

export function mongoUrl(host: string, port: number): string {
  return `mongodb://${host}:${port}/`;
}

async function answersPing(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } finally {
    await client.close();
  }
}

export async function startFerretDb(options: FerretDbOptions, sink: LogSink): Promise<RunningFerretDb> {
  await mkdir(options.dataDir, { recursive: true });
  const process = ManagedProcess.start({ name: options.name, command: options.binary, args: ferretDbArgs(options) }, sink);
  const url = mongoUrl(options.host, options.port);
  await waitUntilReady(process, `FerretDB at ${url}`, () => answersPing(url), { timeoutMs: startupTimeoutMs, intervalMs: 150 });
  return { process, url };
}
