import { AccountServiceClient } from '../../../lib/clients/account-service-client';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { entryPageSchema, accountViewSchema } from '../../../lib/contracts/account-service-contract';
import { positionAccountId, reserveAccountId, type SettlementModel } from '../../../lib/contracts/settlement';
import { signingKeyOf } from '../../../infra/secrets';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { captureWorkflowHistory } from '../../support/history-capture';
import { apiCaller, eventually, http, type ApiCaller } from '../../support/http';

jest.setTimeout(300_000);

const finalStatuses = ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'];
const amount = 200n;
/** The sending bank's cap (deferred-net) or reserve (gross) covers exactly this many transfers of `amount`. */
const covered = 15n;
const attempts = 40;

interface Participant {
  balanceMinor: bigint;
  /** Lowest balance any entry of the account's chain ever recorded. */
  lowestMinor: bigint;
}

/**
 * The settlement legs, for each model, on a real cluster: 40 transfers at once from a bank whose
 * cap or reserve covers 15 of them. Exactly 15 complete, the other 25 are refunded with the
 * model's code, every customer balance is exact, and the settlement bank's chain never passed
 * the limit at any entry.
 */
describe.each<[SettlementModel, string, Record<string, string>]>([
  ['deferred-net', 'NET_DEBIT_CAP_EXCEEDED', { SETTLEMENT_OPENING_RESERVE_MINOR: String(covered * amount * 2n), SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR: String(covered * amount), CLIENT_MANDATES: 'client-a=bank-a,client-b=bank-b' }],
  ['immediate-gross', 'INSUFFICIENT_LIQUIDITY', { SETTLEMENT_OPENING_RESERVE_MINOR: String(covered * amount), SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR: '0' }],
])('settlement legs, %s', (model, refusalCode, settlementEnv) => {
  let env: TestCluster;
  let operator: ApiCaller;
  let settlementBank: AccountServiceClient;
  /** The account the model debits and credits at the settlement bank. */
  const accountOf = (bankId: string) => (model === 'deferred-net' ? positionAccountId(bankId, 'EUR') : reserveAccountId(bankId, 'EUR'));

  beforeAll(async () => {
    env = await startTestCluster(`settlement-${model}`, { banks: ['bank-a', 'bank-b'], services: true, serviceEnv: { SETTLEMENT_MODEL: model, SETTLEMENT_CURRENCIES: 'EUR', APPROVAL_THRESHOLD_MINOR: '100000000', LOG_LEVEL: 'warn', ...settlementEnv } });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    const secrets = env.cluster.secrets;
    if (!secrets) throw new Error('a cluster with services has secrets');
    settlementBank = new AccountServiceClient({ bankId: env.cluster.settlementBankId, baseUrl: env.cluster.settlementBankUrl, signingKey: signingKeyOf(secrets, 'reconciliation'), requestTimeoutMs: 5_000 });
    for (const [bankId, accountId, funds] of [['bank-a', 'alice', 1_000_000n], ['bank-b', 'bob', 1_000_000n]] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(funds), currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await env?.stop();
  });

  async function participant(bankId: string): Promise<Participant> {
    const accountId = accountOf(bankId);
    const view = accountViewSchema.parse((await settlementBank.request('GET', `/v1/accounts/${accountId}`)).body);
    const page = entryPageSchema.parse((await settlementBank.request('GET', `/v1/accounts/${accountId}/entries?limit=500`)).body);
    return { balanceMinor: BigInt(view.balanceMinor), lowestMinor: page.data.reduce((lowest, entry) => (BigInt(entry.balanceAfterMinor) < lowest ? BigInt(entry.balanceAfterMinor) : lowest), 0n) };
  }

  /** `npm run replay:capture` keeps the history of each settlement path for the replay suite. */
  const capture = (transferId: string, name: string): Promise<void> => captureWorkflowHistory(env.cluster, transferWorkflowId(transferId), name);

  async function balanceOf(bankId: string, accountId: string): Promise<bigint> {
    return BigInt(String((await operator.get(`/v1/banks/${bankId}/accounts/${accountId}`)).body.balanceMinor));
  }

  async function transfer(key: string, from: [string, string], to: [string, string]): Promise<{ id: string; status: string; reason?: string }> {
    const created = await operator.post('/v1/transfers', { source: { bankId: from[0], accountId: from[1] }, target: { bankId: to[0], accountId: to[1] }, amountMinor: String(amount), currency: 'EUR' }, { 'idempotency-key': key });
    expect(created.status).toBe(202);
    const id = String(created.body.id);
    return eventually(`transfer ${key} to end`, async () => {
      const body = (await operator.get(`/v1/transfers/${id}`)).body;
      return finalStatuses.includes(String(body.status)) ? { id, status: String(body.status), ...(body.reason === undefined ? {} : { reason: String(body.reason) }) } : undefined;
    }, 180_000);
  }

  test(`when 40 transfers of 200 race from a bank whose limit covers 15, then exactly 15 complete, 25 are refunded ${refusalCode}, and no entry passed the limit`, async () => {
    const before = { sender: await participant('bank-a'), receiver: await participant('bank-b') };
    const ended = await Promise.all(Array.from({ length: attempts }, (_, n) => transfer(`race-${n}`, ['bank-a', 'alice'], ['bank-b', 'bob'])));
    const completed = ended.filter((transfer) => transfer.status === 'COMPLETED');
    const refunded = ended.filter((transfer) => transfer.status === 'REFUNDED');
    expect([completed.length, refunded.length]).toEqual([Number(covered), attempts - Number(covered)]);
    expect(new Set(refunded.map((transfer) => transfer.reason))).toEqual(new Set([refusalCode]));
    expect(await balanceOf('bank-a', 'alice')).toBe(1_000_000n - covered * amount);
    expect(await balanceOf('bank-b', 'bob')).toBe(1_000_000n + covered * amount);
    const sender = await participant('bank-a');
    const receiver = await participant('bank-b');
    expect(sender.balanceMinor).toBe(before.sender.balanceMinor - covered * amount);
    expect(receiver.balanceMinor).toBe(before.receiver.balanceMinor + covered * amount);
    // The limit is -cap (a position) or 0 (a reserve): the sender's chain reached it and never went past.
    const limitMinor = model === 'deferred-net' ? -covered * amount : 0n;
    expect(sender.lowestMinor).toBe(limitMinor);
    const scraped = await (await fetch(`${env.cluster.transferApiUrl}/metrics`)).text();
    expect(scraped).toContain(`settlement_reserve_minor{bank="bank-a",currency="EUR"} ${model === 'deferred-net' ? covered * amount * 2n : 0n}`);
    if (model === 'deferred-net') expect(scraped).toContain('settlement_net_debit_cap_used_ratio{bank="bank-a",currency="EUR"} 1');
    await capture(completed[0]?.id ?? '', `settled-${model}-completed`);
    await capture(refunded[0]?.id ?? '', `settled-${model}-refused-refunded`);
  });

  test('when the receiving bank sends one back, then the sender gains exactly that headroom: one more transfer completes, the next is refused', async () => {
    expect((await transfer('back-1', ['bank-b', 'bob'], ['bank-a', 'alice'])).status).toBe('COMPLETED');
    expect((await transfer('after-back-1', ['bank-a', 'alice'], ['bank-b', 'bob'])).status).toBe('COMPLETED');
    expect(await transfer('after-back-2', ['bank-a', 'alice'], ['bank-b', 'bob'])).toMatchObject({ status: 'REFUNDED', reason: refusalCode });
    expect(await balanceOf('bank-a', 'alice')).toBe(1_000_000n - covered * amount);
  });

  test('when the credit is refused after the reservation, then the reservation is released: the sending bank stands as before and the customer is refunded', async () => {
    expect((await operator.post('/v1/banks/bank-a/accounts', { accountId: 'fred', owner: 'fred', currency: 'EUR' })).status).toBe(201);
    expect((await operator.post('/v1/banks/bank-a/accounts/fred/freeze', {}, { 'idempotency-key': 'freeze-fred' })).status).toBe(200);
    const [sender, receiver, bob] = [await participant('bank-b'), await participant('bank-a'), await balanceOf('bank-b', 'bob')];
    const ended = await transfer('to-frozen', ['bank-b', 'bob'], ['bank-a', 'fred']);
    expect(ended).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_FROZEN' });
    expect((await participant('bank-b')).balanceMinor).toBe(sender.balanceMinor);
    expect((await participant('bank-a')).balanceMinor).toBe(receiver.balanceMinor);
    expect(await balanceOf('bank-b', 'bob')).toBe(bob);
    const steps = (await operator.get(`/v1/transfers/${ended.id}`)).body.steps as Array<{ name: string; status: string }>;
    expect(steps.map((step) => `${step.name}:${step.status}`)).toEqual(['debit:SUCCEEDED', 'settlement-reserve:SUCCEEDED', 'credit:FAILED', 'credit-void:SUCCEEDED', 'settlement-release:SUCCEEDED', 'refund:SUCCEEDED']);
    await capture(ended.id, `settled-${model}-credit-refused-released`);
  });

  test('when operators move liquidity, then funds-in and funds-out change the reserve once per fundsId and never past the limit, and the cap follows its rules', async () => {
    const row = async (bankId: string) => ((await operator.get('/v1/settlement/participants')).body.data as Array<Record<string, unknown>>).find((entry) => entry.bankId === bankId && entry.currency === 'EUR');
    const listed = await operator.get('/v1/settlement/participants');
    expect(listed.body.model).toBe(model === 'deferred-net' ? 'DEFERRED_NET' : 'IMMEDIATE_GROSS');
    const reserve = BigInt(String((await row('bank-a'))?.reserveMinor));
    const fundsIn = await operator.post('/v1/settlement/participants/bank-a/funds-in', { fundsId: 'wire-1', amountMinor: '1000', currency: 'EUR' });
    expect([fundsIn.status, fundsIn.body.reserveMinor]).toEqual([200, String(reserve + 1000n)]);
    expect((await operator.post('/v1/settlement/participants/bank-a/funds-in', { fundsId: 'wire-1', amountMinor: '1000', currency: 'EUR' })).body.reserveMinor).toBe(String(reserve + 1000n));
    expect((await operator.post('/v1/settlement/participants/bank-a/funds-in', { fundsId: 'wire-1', amountMinor: '999', currency: 'EUR' })).body.error?.code).toBe('IDEMPOTENCY_CONFLICT');
    // Deferred-net: the reserve never goes below the cap (3000); gross: never below zero.
    const floor = model === 'deferred-net' ? covered * amount : 0n;
    const tooMuch = await operator.post('/v1/settlement/participants/bank-a/funds-out', { fundsId: 'out-1', amountMinor: String(reserve + 1000n - floor + 1n), currency: 'EUR' });
    expect([tooMuch.status, tooMuch.body.error?.code]).toEqual([422, 'INSUFFICIENT_LIQUIDITY']);
    expect((await row('bank-a'))?.reserveMinor).toBe(String(reserve + 1000n));
    const out = await operator.post('/v1/settlement/participants/bank-a/funds-out', { fundsId: 'out-2', amountMinor: '1000', currency: 'EUR' });
    expect([out.status, out.body.reserveMinor]).toEqual([200, String(reserve)]);
    expect((await operator.post('/v1/settlement/participants/bank-a/funds-out', { fundsId: 'out-2', amountMinor: '1000', currency: 'EUR' })).body.reserveMinor).toBe(String(reserve));
    expect((await operator.post('/v1/settlement/participants/bank-z/funds-in', { fundsId: 'w', amountMinor: '1', currency: 'EUR' })).body.error?.code).toBe('BANK_NOT_FOUND');
    expect((await operator.post('/v1/settlement/participants/bank-a/funds-in', { fundsId: 'w', amountMinor: '1', currency: 'USD' })).body.error?.code).toBe('VALIDATION_FAILED');
    const client = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    expect((await client.post('/v1/settlement/participants/bank-a/funds-in', { fundsId: 'w', amountMinor: '1', currency: 'EUR' })).status).toBe(403);
  });

  if (model === 'deferred-net') {
    test('when the cap is set above the reserve or below what the bank owes, then it is refused and stands; raised within the reserve, the bank sends that much more', async () => {
      const cap = (body: unknown, key: string) => http(`${env.cluster.transferApiUrl}/v1/settlement/participants/bank-a/net-debit-cap`, { method: 'PUT', headers: { authorization: `Bearer ${env.keyFor('operator')}`, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });
      const above = await cap({ amountMinor: String(covered * amount * 2n + 1n), currency: 'EUR' }, 'cap-above');
      expect([above.status, above.body.error?.code]).toEqual([422, 'NET_DEBIT_CAP_ABOVE_RESERVE']);
      const below = await cap({ amountMinor: String(covered * amount - 1n), currency: 'EUR' }, 'cap-below');
      expect([below.status, below.body.error?.code]).toEqual([422, 'NET_DEBIT_CAP_BELOW_POSITION']);
      const raised = await cap({ amountMinor: String(covered * amount + 2n * amount), currency: 'EUR' }, 'cap-raise');
      expect([raised.status, raised.body.netDebitCapMinor, raised.body.positionMinor, raised.body.availableMinor]).toEqual([200, String(covered * amount + 2n * amount), String(covered * amount), String(2n * amount)]);
      expect((await transfer('after-raise-1', ['bank-a', 'alice'], ['bank-b', 'bob'])).status).toBe('COMPLETED');
      expect((await transfer('after-raise-2', ['bank-a', 'alice'], ['bank-b', 'bob'])).status).toBe('COMPLETED');
      expect(await transfer('after-raise-3', ['bank-a', 'alice'], ['bank-b', 'bob'])).toMatchObject({ status: 'REFUNDED', reason: 'NET_DEBIT_CAP_EXCEEDED' });
      // A participant client reads its own bank's rows only.
      const rows = (await apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a')).get('/v1/settlement/participants')).body.data as Array<{ bankId: string }>;
      expect(rows.map((entry) => entry.bankId)).toEqual(['bank-a']);
    });
  } else {
    test('when a cap is set under immediate-gross, then it is 400: gross settlement has none', async () => {
      const answer = await http(`${env.cluster.transferApiUrl}/v1/settlement/participants/bank-a/net-debit-cap`, { method: 'PUT', headers: { authorization: `Bearer ${env.keyFor('operator')}`, 'content-type': 'application/json', 'idempotency-key': 'cap' }, body: JSON.stringify({ amountMinor: '10', currency: 'EUR' }) });
      expect([answer.status, answer.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
    });
  }

  test('when a transfer stays within one bank, then the settlement bank is not called', async () => {
    expect((await operator.post('/v1/banks/bank-a/accounts', { accountId: 'carol', owner: 'carol', currency: 'EUR' })).status).toBe(201);
    const before = await participant('bank-a');
    expect((await transfer('in-bank', ['bank-a', 'alice'], ['bank-a', 'carol'])).status).toBe('COMPLETED');
    expect(await participant('bank-a')).toEqual(before);
  });
});
