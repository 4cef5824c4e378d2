import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir, startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, type ApiCaller } from '../../support/http';
import { startOtlpReceiver, type ReceivedSpan } from '../../support/otlp-receiver';

jest.setTimeout(300_000);

/**
 * One transfer on the real cluster with tracing on: every process exports OTLP/HTTP to a receiver in
 * this test, and the spans of the transfer form one trace from the API request to the database
 * commands at both banks.
 */
describe('tracing of a transfer', () => {
  let env: TestCluster;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let operator: ApiCaller;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    env = await startTestCluster('tracing', {
      banks: ['bank-a', 'bank-b'],
      services: true,
      serviceEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, TRACING_EXPORT_DELAY_MS: '200', LOG_LEVEL: 'warn' },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    for (const [bankId, accountId, funds] of [['bank-a', 'alice', '100000'], ['bank-b', 'bob', '']] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      if (funds) expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: funds, currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await env?.stop();
    await receiver?.stop();
  });

  test('when a transfer completes, then one trace links the API request, the workflow, both activities, both account services and their database commands', async () => {
    const created = await operator.post(
      '/v1/transfers',
      { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor: '2500', currency: 'EUR' },
      { 'idempotency-key': 'trace-1' },
    );
    expect(created.status).toBe(202);
    const id = String(created.body.id);
    await eventually(`${id} to complete`, async () => ((await operator.get(`/v1/transfers/${id}`)).body.status === 'COMPLETED' ? true : undefined), 120_000, 200);

    const one = (spans: readonly ReceivedSpan[], service: string, name: string, parent?: ReceivedSpan): ReceivedSpan => {
      const found = spans.filter((span) => span.service === service && span.name === name && (!parent || span.parentSpanId === parent.spanId));
      if (found.length !== 1) throw new Error(`expected one ${name} span of ${service}${parent ? ` under ${parent.name}` : ''}, found ${found.length}`);
      return found[0] as ReceivedSpan;
    };
    // Spans arrive in batches from five processes (the workflow's only when it has ended): read until the chain is whole.
    const chain = (): { request: ReceivedSpan; spans: ReceivedSpan[]; run: ReceivedSpan } => {
      const all = receiver.spans();
      const request = one(all, 'transfer-api', 'POST /v1/transfers');
      const spans = all.filter((span) => span.traceId === request.traceId);
      const start = one(spans, 'transfer-api', 'StartWorkflow:transferWorkflow', request);
      const run = one(spans, 'worker', 'RunWorkflow:transferWorkflow', start);
      const credit = one(spans, 'account-service-bank-b', 'POST /v1/accounts/:accountId/credits');
      if (!spans.some((span) => span.parentSpanId === credit.spanId && span.name === 'mongodb.insert')) throw new Error('no insert under the credit yet');
      return { request, spans, run };
    };
    await eventually('the whole trace', async () => chain(), 60_000, 250).catch((error: unknown) => {
      const listing = receiver.spans().map((span) => `${span.service} ${span.name} trace=${span.traceId.slice(0, 8)} id=${span.spanId} parent=${span.parentSpanId}`);
      throw new Error(`${String(error)}\n${listing.join('\n')}`);
    });
    const { request, spans, run } = chain();
    // The trace as an indented tree, for reading after a run.
    const tree = (parent: ReceivedSpan, depth: number): string[] => [
      `${'  '.repeat(depth)}${parent.name}  [${parent.service}]`,
      ...spans.filter((span) => span.parentSpanId === parent.spanId).flatMap((child) => tree(child, depth + 1)),
    ];
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(join(artifactsDir, 'transfer-trace.txt'), `${tree(request, 0).join('\n')}\n`);
    expect(request.parentSpanId).toBe('');
    for (const [leg, bank] of [['debit', 'bank-a'], ['credit', 'bank-b']] as const) {
      const scheduled = one(spans, 'worker', `StartActivity:${leg}`, run);
      const executed = one(spans, 'worker', `RunActivity:${leg}`, scheduled);
      const handler = one(spans, `account-service-${bank}`, `POST /v1/accounts/:accountId/${leg}s`, executed);
      expect(handler.attributes['http.response.status_code']).toBe(200);
      const commands = spans.filter((span) => span.parentSpanId === handler.spanId);
      expect(commands.length).toBeGreaterThan(0);
      for (const command of commands) {
        expect(command.service).toBe(`account-service-${bank}`);
        expect(command.name).toMatch(/^mongodb\./);
        expect(command.attributes['db.system']).toBe('mongodb');
      }
      // The decision is one insert of the ledger entry (plus its pointer), in the bank's own database.
      expect(commands.filter((span) => span.name === 'mongodb.insert').length).toBeGreaterThanOrEqual(1);
      expect(commands.every((span) => span.attributes['db.name'] === `ledger_${bank.replace('-', '_')}`)).toBe(true);
    }
    // Every span of the trace hangs off another span of the same trace: no broken links.
    const ids = new Set(spans.map((span) => span.spanId));
    expect(spans.filter((span) => span !== request && !ids.has(span.parentSpanId)).map((span) => `${span.service} ${span.name}`)).toEqual([]);
    // Nothing of the payload (account ids, amounts) is written into span names.
    expect(spans.filter((span) => /alice|bob|2500/.test(span.name))).toEqual([]);
  });
});
