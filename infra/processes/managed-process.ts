import { spawn, type ChildProcess } from 'node:child_process';

/** Receives every output line of every process, already split, with the process name. */
export type LogSink = (source: string, line: string) => void;

export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (the launcher is root and the program refuses root, e.g. PostgreSQL). */
  uid?: number;
  gid?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const stopGraceMs = 10_000;
const logTailLines = 40;

/** A child process whose output goes to a log sink line by line and that can be stopped or killed. */
export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private readonly tail: string[] = [];

  private constructor(
    readonly spec: ProcessSpec,
    private readonly child: ChildProcess,
    sink: LogSink,
  ) {
    const forward = (stream: NodeJS.ReadableStream | null): void => {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.emit(sink, line);
      });
      stream?.on('end', () => {
        if (pending !== '') this.emit(sink, pending);
      });
    };
    forward(child.stdout);
    forward(child.stderr);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once('error', (error) => {
        this.emit(sink, `failed to start: ${error.message}`);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  static start(spec: ProcessSpec, sink: LogSink): ManagedProcess {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    return new ManagedProcess(spec, child, sink);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines it printed, for error messages when it dies during start-up. */
  recentOutput(): string {
    return this.tail.join('\n');
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  async stop(graceMs = stopGraceMs): Promise<ProcessExit> {
    if (!this.running) return this.exitInfo as ProcessExit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9: no chance to clean up, as in a crash. */
  async kill(): Promise<ProcessExit> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  private emit(sink: LogSink, line: string): void {
    this.tail.push(line);
    if (this.tail.length > logTailLines) this.tail.shift();
    sink(this.spec.name, line);
  }
}
