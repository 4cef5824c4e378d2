// Runs before `npm start` and `npm test`: installs npm dependencies when the lockfile
// changed since the last install, then builds the Temporal CLI and FerretDB if they
// are not cached. Plain JavaScript because it runs before any dependency exists.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockfile = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.installed-lockfile-sha256');

function runOrExit(command, args, label) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[setup] ${label} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

// Debian packages the test suite needs: sqlite3 reads FerretDB's files to check its query plans;
// promtool (from the prometheus package) evaluates the alert rules on sample series; chromium is
// the browser the Web UI tests drive through playwright-core (never a downloaded browser);
// postgresql is the database of the cluster profile's Temporal server (its binaries are off PATH).
const debianPackages = [
  { command: 'sqlite3', pkg: 'sqlite3' },
  { command: 'promtool', pkg: 'prometheus' },
  { command: 'chromium', pkg: 'chromium' },
  { command: 'initdb', pkg: 'postgresql', check: 'ls /usr/lib/postgresql/*/bin/initdb' },
];
const missing = debianPackages.filter(({ command, check }) => spawnSync('sh', ['-c', check ?? `command -v ${command}`], { stdio: 'ignore' }).status !== 0);
if (missing.length > 0) {
  const names = missing.map(({ pkg }) => pkg);
  if (process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0) {
    console.log(`[setup] installing Debian packages: ${names.join(' ')}`);
    runOrExit('apt-get', ['update', '-q'], 'apt-get update');
    runOrExit('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...names], 'apt-get install');
  } else {
    console.error(`[setup] missing commands: ${missing.map(({ command }) => command).join(', ')}; install the Debian packages ${names.join(' ')}.`);
    process.exit(1);
  }
}

const lockHash = createHash('sha256').update(readFileSync(lockfile)).digest('hex');
const installed = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
if (installed !== lockHash) {
  console.log('[setup] installing npm dependencies (npm ci)');
  runOrExit('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
  writeFileSync(stamp, `${lockHash}\n`);
}

runOrExit(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'infra', 'cli', 'build-binaries.ts')], 'building the infra binaries');
