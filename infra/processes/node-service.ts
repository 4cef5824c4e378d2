import { join } from 'node:path';
import { waitUntilReady } from '../readiness';
import { ManagedProcess, type LogSink } from './managed-process';

const projectRoot = join(__dirname, '..', '..');

export interface NodeServiceOptions {
  name: string;
  /** Entry file relative to the project root, e.g. services/transfer-api/main.ts */
  entry: string;
  env: Record<string, string>;
  /** Polled until it answers 200; omit for processes without HTTP (the worker). */
  readyUrl?: string;
  /** Printed by a process without HTTP once it is ready. */
  readyLine?: RegExp;
  startupTimeoutMs?: number;
}

/**
 * One of the project's own processes, run from TypeScript source through tsx's loader
 * in the node process itself (no wrapper process that could outlive a kill).
 */
export async function startNodeService(options: NodeServiceOptions, sink: LogSink): Promise<ManagedProcess> {
  let readyLineSeen = false;
  const process_ = ManagedProcess.start(
    {
      name: options.name,
      command: process.execPath,
      args: ['--enable-source-maps', '--import', 'tsx', join(projectRoot, options.entry)],
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: process.env.NODE_ENV ?? 'development', ...options.env },
    },
    (source, line) => {
      if (options.readyLine?.test(line)) readyLineSeen = true;
      sink(source, line);
    },
  );
  const timeoutMs = options.startupTimeoutMs ?? 60_000;
  try {
    if (options.readyUrl) {
      const url = options.readyUrl;
      await waitUntilReady(process_, `${options.name} at ${url}`, async () => (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok, { timeoutMs });
    } else if (options.readyLine) {
      await waitUntilReady(process_, options.name, async () => readyLineSeen, { timeoutMs, intervalMs: 100 });
    }
  } catch (error) {
    // A process that never became ready is not the cluster's yet: nobody else would stop it.
    await process_.kill();
    throw error;
  }
  return process_;
}
