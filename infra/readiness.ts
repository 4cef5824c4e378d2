import type { ManagedProcess } from './processes/managed-process';

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it resolves true. Gives up early, with the process's last output,
 * when the process exits, so a crash at start is reported instead of waited out.
 */
export async function waitUntilReady(process: ManagedProcess, what: string, probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!process.running) {
      throw new StartupError(`${process.name} exited before ${what} was ready. Its last output:\n${process.recentOutput()}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  throw new StartupError(
    `${what} was not ready after ${options.timeoutMs / 1000} s${lastError ? ` (last error: ${lastError})` : ''}. Last output of ${process.name}:\n${process.recentOutput()}`,
  );
}
