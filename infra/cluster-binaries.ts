import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { binaryCacheDir, checkGo, exists, goInstallCached, InfraBuildError, moduleSource, run, type ProgressLog } from './binaries';

/**
 * What the cluster profile runs beyond the dev server's binaries: the Temporal server itself (the
 * version the CLI's dev server embeds, and the one docker-compose.yml runs), its SQL schema tool,
 * the versioned PostgreSQL schemas from the same module, and Debian's PostgreSQL.
 */
export const temporalServerVersion = 'v1.29.1';

const serverModule = 'go.temporal.io/server';
/** The Web UI server the CLI v1.5.1 embeds (its assets are inside the module), run on its own beside the cluster. */
export const uiServerVersion = 'v2.42.1';
const uiServerModule = 'github.com/temporalio/ui-server/v2';

function serverDir(): string {
  return join(binaryCacheDir(), `temporal-server-${temporalServerVersion}`);
}

export interface ClusterBinaries {
  /** `server --root DIR --config-file FILE start --service NAME` */
  server: string;
  /** `temporal-sql-tool` of the same release: create-database, setup-schema, update-schema. */
  sqlTool: string;
  /** schema/postgresql/v12 of the server module: temporal/versioned and visibility/versioned. */
  schemaDir: string;
  /** initdb, pg_ctl and postgres of the installed PostgreSQL. */
  postgresBinDir: string;
  /** The Web UI server: `--root <project> --config infra/temporal/ui --env cluster start`. */
  uiServer: string;
}

/** The bin folder of Debian's newest installed PostgreSQL (/usr/lib/postgresql/<major>/bin), if any. */
export async function installedPostgresBinDir(root = '/usr/lib/postgresql'): Promise<string | undefined> {
  if (!(await exists(root))) return undefined;
  const majors = (await readdir(root)).filter((name) => /^[0-9]+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (await exists(join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

/** Copies a folder of a module's source into the cache once (through a .partial folder), writable and readable by all. */
async function copyFromModule(module: string, from: string, target: string, log: ProgressLog): Promise<void> {
  if (await exists(target)) return;
  const source = join(await moduleSource(module), from);
  if (!(await exists(source))) throw new InfraBuildError(`${module} has no ${from}: its layout changed; update infra/cluster-binaries.ts`);
  const partial = `${target}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(join(target, '..'), { recursive: true });
  await cp(source, partial, { recursive: true });
  await run('chmod', ['-R', 'u+w,a+rX', partial]);
  await cp(partial, target, { recursive: true });
  await rm(partial, { recursive: true, force: true });
  log(`${module}: ${from} copied to ${target}`);
}

async function copySchemas(log: ProgressLog): Promise<string> {
  const target = join(serverDir(), 'schema', 'postgresql', 'v12');
  await copyFromModule(`${serverModule}@${temporalServerVersion}`, join('schema', 'postgresql', 'v12'), target, log);
  if (!(await exists(join(target, 'visibility', 'versioned')))) throw new InfraBuildError(`${target} has no visibility/versioned folder: the schema layout changed; update infra/cluster-binaries.ts`);
  return target;
}

/**
 * Builds the server, the SQL tool and the Web UI server when missing (about 1.5 minutes once the CLI's Go build cache
 * exists) and finds PostgreSQL. ensure-ready installs the postgresql package when missing.
 */
export async function ensureClusterBinaries(log: ProgressLog): Promise<ClusterBinaries> {
  const server = join(serverDir(), 'temporal-server');
  const sqlTool = join(serverDir(), 'temporal-sql-tool');
  if (!(await exists(server)) || !(await exists(sqlTool))) await checkGo();
  await goInstallCached({ label: `temporal server ${temporalServerVersion}`, module: `${serverModule}/cmd/server@${temporalServerVersion}`, target: server, firstBuild: 'about 2-6 minutes' }, log);
  await goInstallCached({ label: `temporal-sql-tool ${temporalServerVersion}`, module: `${serverModule}/cmd/tools/sql@${temporalServerVersion}`, target: sqlTool, firstBuild: 'under a minute after the server' }, log);
  const schemaDir = await copySchemas(log);
  const uiServer = join(binaryCacheDir(), `temporal-ui-server-${uiServerVersion}`, 'temporal-ui-server');
  await goInstallCached({ label: `temporal ui-server ${uiServerVersion}`, module: `${uiServerModule}/cmd/server@${uiServerVersion}`, target: uiServer, firstBuild: 'about 30 seconds' }, log);
  const postgresBinDir = await installedPostgresBinDir();
  if (!postgresBinDir) throw new InfraBuildError('PostgreSQL is not installed (no /usr/lib/postgresql/<major>/bin/initdb): run `node infra/ensure-ready.mjs --cluster` as root, or `apt-get install postgresql`.');
  return { server, sqlTool, schemaDir, postgresBinDir, uiServer };
}
