// Retakes the README's pictures (docs/images/) from a running `npm start` cluster: the Temporal
// Web UI's transfer list, one refunded transfer's history, and Prometheus graphs of the Grafana
// dashboard's queries. Run by hand (`npx tsx infra/cli/screenshots.ts`), never by the tests.
// Grafana itself cannot run on the development machine (README, "Metrics and alerts"), so the
// graphs come from Debian's Prometheus, started here for the length of the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { transferWorkflowId } from '../../lib/contracts/transfer-contract';
import { localPlanFromEnv } from '../local-plan';
import { secretsDir, type ApiKeyEntry } from '../secrets';

const projectRoot = join(__dirname, '..', '..');
const imagesDir = join(projectRoot, 'docs', 'images');
const viewport = { width: 1280, height: 800 };
/** Longer than the dashboard's 5 m rate() windows, so that the graphs show them filled. */
const workloadMs = 330_000;
const transferEveryMs = 2_000;
/** One transfer in this many goes to an account that does not exist: its credit is refused and the saga refunds it. */
const refundedEvery = 6;
const scrapeIntervalS = 5;
const pageTimeoutMs = 60_000;

/** Two of the Grafana dashboard's queries (infra/grafana/dashboards/transfers.json), one picture each. */
const dashboardQueries = [
  { image: 'prometheus-transfers-ended.png', query: 'sum by (status) (rate(transfers_ended_total[5m])) * 60' },
  { image: 'prometheus-saga-duration-p95.png', query: 'histogram_quantile(0.95, sum by (le) (rate(transfer_duration_seconds_bucket[5m])))' },
];

interface Api {
  post(path: string, key: string, body: unknown, idempotencyKey?: string): Promise<{ id?: string; status?: string }>;
}

function apiAt(baseUrl: string): Api {
  return {
    async post(path, key, body, idempotencyKey) {
      const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (response.status >= 300) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { id?: string; status?: string };
    },
  };
}

async function apiKeys(dataDir: string): Promise<{ operator: string; client: string }> {
  const entries = JSON.parse(await readFile(join(secretsDir(dataDir), 'api-keys.json'), 'utf8')) as ApiKeyEntry[];
  const keyOf = (name: string): string => {
    const entry = entries.find((candidate) => candidate.name === name);
    if (!entry) throw new Error(`no API key named ${name} in ${secretsDir(dataDir)}; start the cluster with npm start first`);
    return entry.key;
  };
  return { operator: keyOf('operator'), client: keyOf('client-a') };
}

/**
 * Completed and refunded transfers for the length of the workload, and one that waits for approval.
 * The operator key opens and funds the accounts; the client key sends the transfers, as a bank's
 * participant would.
 */
async function runWorkload(api: Api, keys: { operator: string; client: string }, sourceBank: string, targetBank: string): Promise<{ refunded: string }> {
  const run = randomUUID().slice(0, 8);
  const source = { bankId: sourceBank, accountId: `shots-${run}-source` };
  const target = { bankId: targetBank, accountId: `shots-${run}-target` };
  await api.post(`/v1/banks/${source.bankId}/accounts`, keys.operator, { accountId: source.accountId, owner: 'Screenshot source', currency: 'EUR' });
  await api.post(`/v1/banks/${source.bankId}/accounts/${source.accountId}/deposits`, keys.operator, { depositId: `shots-${run}`, amountMinor: '100000000', currency: 'EUR' });
  await api.post(`/v1/banks/${target.bankId}/accounts`, keys.operator, { accountId: target.accountId, owner: 'Screenshot target', currency: 'EUR' });
  // At or above APPROVAL_THRESHOLD_MINOR (1000000 by default): it stays AWAITING_APPROVAL.
  await api.post('/v1/transfers', keys.client, { source, target, amountMinor: '1500000', currency: 'EUR' }, `shots-${run}-approval`);
  let refunded: string | undefined;
  const endsAt = Date.now() + workloadMs;
  for (let index = 1; Date.now() < endsAt; index += 1) {
    const missingTarget = index % refundedEvery === 0;
    const created = await api.post(
      '/v1/transfers',
      keys.client,
      { source, target: missingTarget ? { ...target, accountId: `shots-${run}-missing` } : target, amountMinor: String(1_000 + index * 10), currency: 'EUR' },
      `shots-${run}-${index}`,
    );
    if (missingTarget && refunded === undefined) refunded = created.id;
    await new Promise((resolve) => setTimeout(resolve, transferEveryMs));
  }
  if (!refunded) throw new Error('the workload sent no transfer to the missing account');
  return { refunded };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Debian's Prometheus scraping the local cluster, with the project's alert rules. */
async function startPrometheus(folder: string, targets: Record<string, string[]>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const jobs = Object.entries(targets).map(([job, addresses]) => `  - job_name: ${job}\n    static_configs: [{ targets: [${addresses.map((address) => `"${address}"`).join(', ')}] }]`);
  const config = [`global: { scrape_interval: ${scrapeIntervalS}s, evaluation_interval: ${scrapeIntervalS}s }`, `rule_files: ["${join(projectRoot, 'infra', 'prometheus', 'alerts.yml')}"]`, 'scrape_configs:', ...jobs, ''].join('\n');
  await writeFile(join(folder, 'prometheus.yml'), config);
  const child = spawn('prometheus', [`--config.file=${join(folder, 'prometheus.yml')}`, `--storage.tsdb.path=${join(folder, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const ready = await fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    if (ready) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill();
  throw new Error('Prometheus did not become ready (is Debian\'s prometheus package installed?)');
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(1_500);
  await page.screenshot({ path: join(imagesDir, name) });
  console.log(`[screenshots] docs/images/${name}`);
}

async function main(): Promise<void> {
  const plan = localPlanFromEnv(process.env, projectRoot);
  if (!plan.services) throw new Error('the local plan runs no services');
  const apiUrl = `http://127.0.0.1:${plan.services.transferApiPort}`;
  const webUiUrl = `http://127.0.0.1:${plan.temporal.uiPort}`;
  const [sourceBank, targetBank] = plan.banks.map((bank) => bank.bankId);
  if (!sourceBank || !targetBank) throw new Error('two local banks are needed (LOCAL_BANKS)');
  const folder = await mkdtemp(join(tmpdir(), 'screenshots-'));
  const prometheus = await startPrometheus(folder, {
    'transfer-api': [`127.0.0.1:${plan.services.transferApiPort}`],
    'account-service': [...plan.banks.map((bank) => `127.0.0.1:${bank.servicePort}`), ...(plan.settlementBank ? [`127.0.0.1:${plan.settlementBank.servicePort}`] : [])],
    worker: [`127.0.0.1:${plan.services.workerMetricsPort}`],
    'codec-server': [`127.0.0.1:${plan.services.codecServerPort}`],
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    console.log(`[screenshots] Prometheus at ${prometheus.url}; sending transfers for ${workloadMs / 1000} s`);
    const { refunded } = await runWorkload(apiAt(apiUrl), await apiKeys(plan.dataDir), sourceBank, targetBank);
    await mkdir(imagesDir, { recursive: true });
    const page = await browser.newPage({ viewport });
    page.setDefaultTimeout(pageTimeoutMs);

    await page.goto(`${webUiUrl}/namespaces/default/workflows?query=${encodeURIComponent('WorkflowType="transferWorkflow"')}`);
    await page.locator('a[href*="/workflows/transfer-"]').first().waitFor();
    await shoot(page, 'web-ui-transfers.png');

    // The input and the result, decoded through the codec server; below them the event history.
    await page.goto(`${webUiUrl}/namespaces/default/workflows/${transferWorkflowId(refunded)}`);
    await page.getByText('REFUNDED').first().waitFor();
    await shoot(page, 'web-ui-refunded-transfer.png');
    await page.getByRole('heading', { name: 'Event History' }).evaluate((element) => element.scrollIntoView({ block: 'start' }));
    await shoot(page, 'web-ui-refunded-transfer-history.png');

    for (const { image, query } of dashboardQueries) {
      await page.goto(`${prometheus.url}/classic/graph?g0.expr=${encodeURIComponent(query)}&g0.tab=0&g0.range_input=6m`);
      await page.locator('.rickshaw_graph svg').first().waitFor();
      // The classic UI focuses the expression field; the graph and its legend are wanted, from the top.
      // A string, as the project compiles without the DOM's types.
      await page.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
      await shoot(page, image);
    }
  } finally {
    await browser.close();
    prometheus.child.kill('SIGTERM');
    await new Promise((resolve) => prometheus.child.once('exit', resolve));
    await rm(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`[screenshots] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
