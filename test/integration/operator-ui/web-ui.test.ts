import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { encryptedEncoding } from '../../../lib/crypto/payload-codec';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { captureHistory, payloadsOutsideSearchAttributes } from '../../support/history-capture';
import { artifactsDir, startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, http, type ApiCaller } from '../../support/http';
import { testCodecKeys } from '../../support/temporal';

jest.setTimeout(600_000);

const approvalThresholdMinor = 1_000_000n;
const screenshotsDir = join(artifactsDir, 'screenshots');
const reference = 'invoice-4711-confidential';

/** Debian's chromium, installed by infra/ensure-ready.mjs; never a downloaded browser. */
function chromiumPath(): string {
  return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
}

/**
 * Operators on the real local cluster: payloads are encrypted at rest, the codec server decodes
 * them for the Web UI and the CLI only, and the Web UI (driven in Debian's chromium) lists
 * transfers by the business search attributes and shows a transfer's decoded input.
 */
describe('operator Web UI and codec server on the real cluster', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let client: ApiCaller;
  let browser: Browser;
  let page: Page;
  const ids = { completed: '', refunded: '', awaiting: '', attention: '' };

  async function create(key: string, source: [string, string], target: [string, string], amountMinor: string): Promise<string> {
    const answer = await client.post(
      '/v1/transfers',
      { source: { bankId: source[0], accountId: source[1] }, target: { bankId: target[0], accountId: target[1] }, amountMinor, currency: 'EUR', reference },
      { 'idempotency-key': key },
    );
    expect(answer.status).toBe(202);
    return String(answer.body.id);
  }

  async function reaches(id: string, status: string): Promise<void> {
    await eventually(`transfer ${id} to reach ${status}`, async () => ((await operator.get(`/v1/transfers/${id}`)).body.status === status ? true : undefined), 120_000);
  }

  /** The visible text of the page, once it holds every expected string (the UI loads asynchronously). */
  async function pageTextWith(expected: readonly string[], timeoutMs = 60_000): Promise<string> {
    let text = '';
    await eventually(`the page to show ${expected.join(', ')}`, async () => {
      text = await page.locator('body').innerText();
      return expected.every((item) => text.includes(item)) ? true : undefined;
    }, timeoutMs, 500).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- page text ---\n${text.slice(0, 3_000)}`);
    });
    return text;
  }

  async function openList(query: string, screenshot: string): Promise<string[]> {
    await page.goto(`${env.cluster.webUiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    // The list shows the transfers' workflow ids as links; collect those of this test's transfers.
    const all = Object.values(ids).map(transferWorkflowId);
    await eventually(`the list for ${query}`, async () => ((await page.locator('a[href*="/workflows/transfer-"]').count()) > 0 ? true : undefined), 60_000, 500);
    await page.waitForTimeout(1_000);
    await page.screenshot({ path: join(screenshotsDir, `${screenshot}.png`), fullPage: true });
    const text = await page.locator('body').innerText();
    return all.filter((workflowId) => text.includes(workflowId));
  }

  beforeAll(async () => {
    mkdirSync(screenshotsDir, { recursive: true });
    env = await startTestCluster('operator-web-ui', { services: true, ui: true, serviceEnv: {
        APPROVAL_THRESHOLD_MINOR: String(approvalThresholdMinor),
        // A credit to a bank that is down gives up quickly, and the first failed void of it asks for attention.
        CREDIT_GIVE_UP_AFTER_MS: '1000',
        REFUND_ATTENTION_AFTER_ATTEMPTS: '1',
        LOG_LEVEL: 'warn',
      },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    client = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    for (const [bankId, accountId] of [['bank-a', 'alice'], ['bank-b', 'bob'], ['bank-c', 'carol']] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: '5000000', currency: 'EUR' })).status).toBe(200);
    }
    ids.completed = await create('ui-completed', ['bank-a', 'alice'], ['bank-b', 'bob'], '12345');
    ids.refunded = await create('ui-refunded', ['bank-a', 'alice'], ['bank-b', 'nobody-here'], '2222');
    ids.awaiting = await create('ui-awaiting', ['bank-c', 'carol'], ['bank-a', 'alice'], String(approvalThresholdMinor + 1n));
    await reaches(ids.completed, 'COMPLETED');
    await reaches(ids.refunded, 'REFUNDED');
    await reaches(ids.awaiting, 'AWAITING_APPROVAL');
    // Target bank down after the debit: the credit's void cannot reach it, so the transfer needs attention.
    await env.cluster.kill('account-service-bank-c');
    ids.attention = await create('ui-attention', ['bank-b', 'bob'], ['bank-c', 'carol'], '777');
    await eventually('a transfer needing attention', async () => ((await operator.get(`/v1/transfers/${ids.attention}`)).body.needsAttention === true ? true : undefined), 120_000);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  describe('payload encryption', () => {
    test('when a history is read straight from the server without the codec, then it holds no account id, amount or reference in plaintext', async () => {
      const connection = await Connection.connect({ address: env.cluster.temporalAddress });
      try {
        const handle = new Client({ connection }).workflow.getHandle(transferWorkflowId(ids.completed));
        const history = await handle.fetchHistory();
        // Search attributes are plaintext by design (ids, banks, amounts); every other payload must be ciphertext.
        const payloads = payloadsOutsideSearchAttributes(history);
        expect(payloads.length).toBeGreaterThanOrEqual(8);
        expect(payloads.filter((payload) => payload.encoding !== encryptedEncoding).map((payload) => payload.path)).toEqual([]);
        for (const payload of payloads) {
          const text = payload.data.toString('latin1');
          for (const secret of ['alice', 'bob', '12345', reference]) expect(text).not.toContain(secret);
        }
        const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        expect(Buffer.from(input?.metadata?.encoding ?? new Uint8Array()).toString()).toBe(encryptedEncoding);
        expect(Buffer.from(input?.metadata?.['encryption-key-id'] ?? new Uint8Array()).toString()).toBe(testCodecKeys[0]?.keyId);
        await captureHistory(handle, 'encrypted-completed');
      } finally {
        await connection.close();
      }
    });

    test('when the codec server is asked with its token, then it decodes what the worker encoded; without the token it answers 401', async () => {
      const connection = await Connection.connect({ address: env.cluster.temporalAddress });
      let input: { metadata: Record<string, string>; data: string };
      try {
        const history = await new Client({ connection }).workflow.getHandle(transferWorkflowId(ids.completed)).fetchHistory();
        const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        input = {
          metadata: Object.fromEntries(Object.entries(payload?.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
          data: Buffer.from(payload?.data ?? new Uint8Array()).toString('base64'),
        };
      } finally {
        await connection.close();
      }
      const endpoint = env.cluster.codecEndpoint;
      const decoded = await http(`${endpoint}/decode`, { body: { payloads: [input] }, headers: { 'x-namespace': 'default' } });
      expect(decoded.status).toBe(200);
      const [plain] = decoded.body.payloads as Array<{ metadata: Record<string, string>; data: string }>;
      expect(Buffer.from(plain?.metadata.encoding ?? '', 'base64').toString()).toBe('json/plain');
      expect(JSON.parse(Buffer.from(plain?.data ?? '', 'base64').toString())).toMatchObject({ source: { bankId: 'bank-a', accountId: 'alice' }, amountMinor: '12345' });

      const token = endpoint.slice(endpoint.lastIndexOf('/') + 1);
      const codecUrl = endpoint.slice(0, endpoint.lastIndexOf('/'));
      const viaBearer = await http(`${codecUrl}/decode`, { body: { payloads: [input] }, headers: { authorization: `Bearer ${token}` } });
      expect(viaBearer.status).toBe(200);
      expect(viaBearer.body).toEqual(decoded.body);
      for (const unauthenticated of [
        http(`${codecUrl}/decode`, { body: { payloads: [input] } }),
        http(`${codecUrl}/decode`, { body: { payloads: [input] }, headers: { authorization: 'Bearer wrong-token' } }),
        http(`${codecUrl}/not-the-token/decode`, { body: { payloads: [input] } }),
      ]) {
        const answer = await unauthenticated;
        expect([answer.status, answer.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
        expect(answer.text).not.toContain('alice');
      }
    });

    test('when a browser preflights the codec server, then only the Web UI origin is allowed', async () => {
      const endpoint = env.cluster.codecEndpoint;
      const preflight = (origin: string) =>
        fetch(`${endpoint}/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
      const fromUi = await preflight(String(env.cluster.webUiUrl));
      expect(fromUi.status).toBe(204);
      expect(fromUi.headers.get('access-control-allow-origin')).toBe(env.cluster.webUiUrl);
      expect(fromUi.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
      const fromElsewhere = await preflight('http://evil.example');
      expect(fromElsewhere.status).toBe(403);
      expect(((await fromElsewhere.json()) as { error?: { code?: string } }).error?.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('the Web UI in chromium', () => {
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
      page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    });

    test('when the list is filtered by TransferStatus="AWAITING_APPROVAL", then only the transfer awaiting approval is listed', async () => {
      expect(await openList('TransferStatus="AWAITING_APPROVAL"', 'list-awaiting-approval')).toEqual([transferWorkflowId(ids.awaiting)]);
    });

    test('when the list is filtered by source bank, then the transfers from bank-a are listed and the one from bank-c is not', async () => {
      expect((await openList('SourceBank="bank-a"', 'list-source-bank-a')).sort()).toEqual([transferWorkflowId(ids.completed), transferWorkflowId(ids.refunded)].sort());
      expect(await openList('SourceBank="bank-c"', 'list-source-bank-c')).toEqual([transferWorkflowId(ids.awaiting)]);
    });

    test('when the list is filtered by TransferStatus="REFUNDED" and NeedsAttention=false, then only the refunded transfer is listed', async () => {
      expect(await openList('TransferStatus="REFUNDED" AND NeedsAttention=false', 'list-refunded')).toEqual([transferWorkflowId(ids.refunded)]);
    });

    test('when the list is filtered by NeedsAttention=true, then only the transfer whose compensation is stuck is listed', async () => {
      expect(await openList('NeedsAttention=true', 'list-needs-attention')).toEqual([transferWorkflowId(ids.attention)]);
    });

    test('when a transfer is opened, then its input is shown decoded (bank, account, amount) through the codec server', async () => {
      const decodeCalls: string[] = [];
      page.on('request', (request: Request) => {
        if (request.url().startsWith(env.cluster.codecEndpoint) && request.method() === 'POST') decodeCalls.push(request.url());
      });
      const workflowId = transferWorkflowId(ids.completed);
      const run = await operator.get(`/v1/transfers/${ids.completed}`);
      expect(run.status).toBe(200);
      await page.goto(`${env.cluster.webUiUrl}/namespaces/default/workflows/${workflowId}`);
      const text = await pageTextWith(['bank-a', 'alice', 'bob', '12345'], 90_000);
      expect(text).not.toContain(encryptedEncoding);
      expect(decodeCalls.some((url) => url.endsWith('/decode'))).toBe(true);
      await page.screenshot({ path: join(screenshotsDir, 'transfer-decoded-input.png'), fullPage: true });
    });
  });
});
