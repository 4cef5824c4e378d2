import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** The two real servers every local cluster and integration test runs on. */
export const temporalCliVersion = 'v1.5.1';
export const ferretDbVersion = 'v1.24.2';
/** Oldest Go that builds both modules. */
const goVersionMin: readonly [number, number] = [1, 25];

export const ferretDbPatchPath = join(__dirname, 'ferretdb-id-index.patch');

export class InfraBuildError extends Error {
  override readonly name = 'InfraBuildError';
}

export type ProgressLog = (line: string) => void;

/** Binaries live outside git so that clones and CI runs share one build. */
export function binaryCacheDir(): string {
  return process.env.INTERBANK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'interbank-transfers');
}

export function temporalBinaryPath(): string {
  return join(binaryCacheDir(), `temporal-${temporalCliVersion}`, 'temporal');
}

export async function ferretDbBinaryPath(): Promise<string> {
  return join(binaryCacheDir(), `ferretdb-${ferretDbVersion}-${await patchFingerprint()}`, 'ferretdb');
}

async function patchFingerprint(): Promise<string> {
  const patch = await readFile(ferretDbPatchPath);
  return createHash('sha256').update(patch).digest('hex').slice(0, 12);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for every output line, e.g. to count compiled packages. */
  onLine?: (line: string) => void;
}

/** Runs a command to completion; rejects with its captured output on failure. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let output = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      output += text;
      if (options.onLine) for (const line of text.split('\n')) if (line.trim() !== '') options.onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new InfraBuildError(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

export async function checkGo(): Promise<void> {
  let version: string;
  try {
    version = (await run('go', ['env', 'GOVERSION'])).trim();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InfraBuildError(
      missing
        ? 'The Go toolchain (`go`) is not on PATH. Install Go 1.25 or newer to build the Temporal CLI and FerretDB.'
        : `\`go env GOVERSION\` failed: ${(error as Error).message}`,
    );
  }
  const match = /^go(\d+)\.(\d+)/.exec(version);
  const [major, minor] = [Number(match?.[1] ?? 0), Number(match?.[2] ?? 0)];
  if (major < goVersionMin[0] || (major === goVersionMin[0] && minor < goVersionMin[1])) {
    throw new InfraBuildError(`Go ${version} is too old: the Temporal CLI ${temporalCliVersion} needs Go ${goVersionMin.join('.')} or newer.`);
  }
}

/** Prints a heartbeat while a long step runs silently. */
export function heartbeat(log: ProgressLog, label: string, detail: () => string): () => void {
  const startedAt = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    log(`${label}: still working (${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s, ${detail()})`);
  }, 15_000);
  return () => clearInterval(timer);
}

export function proxyFailure(module: string, error: unknown): InfraBuildError {
  return new InfraBuildError(
    `Could not download ${module} through the Go module proxy (GOPROXY=${process.env.GOPROXY ?? 'default'}). ` +
      `Check network access to the proxy.\n${(error as Error).message}`,
  );
}

/**
 * `go install <module>` into the cache as `target`, with a heartbeat; a binary already there is
 * reused. The build goes to a .partial folder first, so an interrupted one is never taken for done.
 */
export async function goInstallCached(options: { label: string; module: string; target: string; firstBuild: string }, log: ProgressLog): Promise<void> {
  const { label, module, target } = options;
  if (await exists(target)) {
    log(`${label}: cached at ${target}`);
    return;
  }
  log(`${label}: building with go install (${options.firstBuild} the first time)`);
  const binDir = `${dirname(target)}.partial`;
  await rm(binDir, { recursive: true, force: true });
  let packages = 0;
  const stop = heartbeat(log, label, () => `${packages} packages compiled`);
  try {
    await run('go', ['install', '-v', module], {
      env: { ...process.env, GOBIN: binDir, GOFLAGS: '-mod=mod' },
      onLine: (line) => {
        if (!line.startsWith('go: ')) packages += 1;
      },
    });
  } catch (error) {
    const text = (error as Error).message;
    if (/proxy|dial tcp|no such host|i\/o timeout|404 Not Found/.test(text)) throw proxyFailure(module, error);
    throw error;
  } finally {
    stop();
  }
  const built = join(binDir, basename(module.replace(/@.*$/, '')));
  await mkdir(dirname(target), { recursive: true });
  await cp(built, target);
  await chmod(target, 0o755);
  await rm(binDir, { recursive: true, force: true });
  log(`${label}: built at ${target}`);
}

function buildTemporal(log: ProgressLog): Promise<void> {
  return goInstallCached(
    { label: `temporal ${temporalCliVersion}`, module: `github.com/temporalio/cli/cmd/temporal@${temporalCliVersion}`, target: temporalBinaryPath(), firstBuild: 'about 5 minutes' },
    log,
  );
}

/** `go mod download` of a module version: the folder of its source in the module cache. */
export async function moduleSource(module: string): Promise<string> {
  let output: string;
  try {
    output = await run('go', ['mod', 'download', '-json', module]);
  } catch (error) {
    throw proxyFailure(module, error);
  }
  const parsed = JSON.parse(output) as { Dir?: string; Error?: string };
  if (parsed.Error || !parsed.Dir) throw proxyFailure(module, new Error(parsed.Error ?? 'no module folder in the answer'));
  return parsed.Dir;
}

async function buildFerretDb(log: ProgressLog): Promise<void> {
  const target = await ferretDbBinaryPath();
  if (await exists(target)) {
    log(`ferretdb ${ferretDbVersion} (patched): cached at ${target}`);
    return;
  }
  log(`ferretdb ${ferretDbVersion}: downloading module source`);
  const moduleDir = await moduleSource(`github.com/FerretDB/FerretDB@${ferretDbVersion}`);
  const workDir = join(tmpdir(), `ferretdb-src-${process.pid}`);
  await rm(workDir, { recursive: true, force: true });
  await cp(moduleDir, workDir, { recursive: true });
  await run('chmod', ['-R', 'u+w', workDir]);
  try {
    // The module lacks the generated version file that the binary embeds and panics without.
    await writeFile(join(workDir, 'build', 'version', 'version.txt'), `${ferretDbVersion}\n`);
    try {
      await run('git', ['apply', '--check', ferretDbPatchPath], { cwd: workDir });
    } catch (error) {
      throw new InfraBuildError(
        `The patch ${ferretDbPatchPath} no longer applies to FerretDB ${ferretDbVersion}; update it.\n${(error as Error).message}`,
      );
    }
    await run('git', ['apply', ferretDbPatchPath], { cwd: workDir });
    log(`ferretdb ${ferretDbVersion}: patch applied, building (about 1-3 minutes)`);
    let packages = 0;
    const stop = heartbeat(log, 'ferretdb', () => `${packages} packages compiled`);
    const partial = `${target}.partial`;
    await mkdir(join(target, '..'), { recursive: true });
    try {
      await run('go', ['build', '-v', '-o', partial, './cmd/ferretdb'], {
        cwd: workDir,
        onLine: (line) => {
          if (!line.startsWith('go: ')) packages += 1;
        },
      });
    } finally {
      stop();
    }
    await cp(partial, target);
    await chmod(target, 0o755);
    await rm(partial, { force: true });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  log(`ferretdb ${ferretDbVersion}: built at ${target}`);
}

/** Builds whatever is missing from the cache; a cached binary at the right version and patch is reused. */
export async function ensureBinaries(log: ProgressLog): Promise<{ temporal: string; ferretDb: string }> {
  const temporal = temporalBinaryPath();
  const ferretDb = await ferretDbBinaryPath();
  if (!(await exists(temporal)) || !(await exists(ferretDb))) await checkGo();
  await buildFerretDb(log);
  await buildTemporal(log);
  return { temporal, ferretDb };
}
