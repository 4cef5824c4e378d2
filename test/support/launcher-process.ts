import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const projectRoot = join(__dirname, '..', '..');

/** `npm start`'s entry point as a real child process, with its output collected. */
export class LauncherProcess {
  output = '';
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(env: NodeJS.ProcessEnv, args: readonly string[] = []): LauncherProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'infra', 'cli', 'start.ts'), ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new LauncherProcess(child);
  }

  /** Resolves when the output matches, rejects if the launcher exits first or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    // Fire-and-forget: only records the exit code for the polling loop below.
    void this.exited.then((code) => {
      exitCode = code;
    });
    while (Date.now() < deadline) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (exitCode !== undefined) throw new Error(`launcher exited (${exitCode}) before printing ${pattern}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`launcher did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Still running: neither exited nor ended by a signal. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  interrupt(): void {
    this.child.kill('SIGINT');
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
