import { createHash, createHmac } from 'node:crypto';
import { signRequest, type SigningKey } from '../../../lib/crypto/request-signing';
import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(180_000);

/**
 * Black-box attacks on the signed, scoped calls of two banks that share one SERVICE_KEYS value
 * (as production compose once did): every request is signed here and sent with fetch, so the
 * bytes and headers on the wire are exactly the ones under test.
 */
const keys = {
  workerOld: { keyId: 'worker-1', secret: 'w'.repeat(40) },
  workerNew: { keyId: 'worker-2', secret: 'n'.repeat(40) },
  api: { keyId: 'api-1', secret: 'a'.repeat(40) },
  recon: { keyId: 'recon-1', secret: 'r'.repeat(40) },
  ops: { keyId: 'ops-1', secret: 'o'.repeat(40) },
} satisfies Record<string, SigningKey>;
type KeyName = keyof typeof keys;

const sharedServiceKeys = [
  `${keys.workerOld.keyId}:${keys.workerOld.secret}:ledger`,
  `${keys.workerNew.keyId}:${keys.workerNew.secret}:ledger`,
  `${keys.api.keyId}:${keys.api.secret}:admin|read`,
  `${keys.recon.keyId}:${keys.recon.secret}:read`,
  `${keys.ops.keyId}:${keys.ops.secret}`,
].join(',');

type Method = 'GET' | 'POST' | 'HEAD';

/** One request as it travels: what a man in the middle captures and may send again. */
interface Captured {
  method: Method;
  path: string;
  body: string;
  signature: string;
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

function capture(key: SigningKey, audience: string, method: Method, path: string, payload?: unknown): Captured {
  const body = payload === undefined ? '' : JSON.stringify(payload);
  return { method, path, body, signature: signRequest(key, { bankId: audience, method, pathWithQuery: path, body }) };
}

async function send(bank: AccountServiceFixture, request: Captured): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-signature': request.signature };
  if (request.body !== '') headers['content-type'] = 'application/json';
  const response = await fetch(`${bank.url}${request.path}`, { method: request.method, headers, body: request.body === '' ? undefined : request.body, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}

/** A correctly signed call, for this bank, with one of the shared keys. */
function signedCall(bank: AccountServiceFixture, key: KeyName, method: Method, path: string, payload?: unknown): Promise<Answer> {
  return send(bank, capture(keys[key], bank.bankId, method, path, payload));
}

const leg = (transferId: string, amountMinor: string) => ({ transferId, amountMinor, currency: 'EUR' });

interface LedgerState {
  status: unknown;
  balanceMinor: unknown;
  operations: string[];
}

/** What the bank holds for an account, read with the reconciliation key: status, balance and every entry's operation id. */
async function ledgerState(bank: AccountServiceFixture, accountId: string): Promise<LedgerState> {
  const account = await signedCall(bank, 'recon', 'GET', `/v1/accounts/${accountId}`);
  const entries = await signedCall(bank, 'recon', 'GET', `/v1/accounts/${accountId}/entries?limit=500`);
  expect([account.status, entries.status]).toEqual([200, 200]);
  const operations = (entries.body.data as Array<{ operationId: string }>).map((entry) => entry.operationId);
  return { status: account.body.status, balanceMinor: account.body.balanceMinor, operations };
}

/** Opens an account with the API's key and deposits 1000 into it; answers the state that makes. */
async function openFunded(bank: AccountServiceFixture, accountId: string): Promise<LedgerState> {
  expect((await signedCall(bank, 'api', 'POST', '/v1/accounts', { accountId, owner: `Owner of ${accountId}`, currency: 'EUR' })).status).toBe(201);
  expect((await signedCall(bank, 'api', 'POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: '1000', currency: 'EUR' })).status).toBe(200);
  const state = await ledgerState(bank, accountId);
  expect(state).toEqual({ status: 'ACTIVE', balanceMinor: '1000', operations: [expect.any(String), `seed-${accountId}:deposit`] });
  return state;
}

function expectRefused(answer: Answer, status: number, code: string): void {
  expect([answer.status, answer.body.error?.code]).toEqual([status, code]);
}

describe('account service: service keys are bound to their bank and their scopes', () => {
  let bankA: AccountServiceFixture;
  let bankB: AccountServiceFixture;

  beforeAll(async () => {
    [bankA, bankB] = await Promise.all([
      startAccountServiceFixture('service-key-authority-a', 'bank-a', { SERVICE_KEYS: sharedServiceKeys }),
      startAccountServiceFixture('service-key-authority-b', 'bank-b', { SERVICE_KEYS: sharedServiceKeys }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([bankA?.stop(), bankB?.stop()]);
  });

  describe('audience', () => {
    test('when a credit signed for bank-b is captured and sent unchanged to bank-a, then bank-a answers 401 UNAUTHENTICATED and writes nothing, while bank-b accepts it', async () => {
      const before = await openFunded(bankA, 'twin-1');
      await openFunded(bankB, 'twin-1');
      const credit = capture(keys.workerNew, 'bank-b', 'POST', '/v1/accounts/twin-1/credits', leg('t-cross-1', '250'));

      expectRefused(await send(bankA, credit), 401, 'UNAUTHENTICATED');
      const atB = await send(bankB, credit);
      expect([atB.status, atB.body.operationId, atB.body.amountMinor, atB.body.balanceAfterMinor]).toEqual([200, 't-cross-1:credit', '250', '1250']);
      expectRefused(await send(bankA, credit), 401, 'UNAUTHENTICATED');

      expect(await ledgerState(bankA, 'twin-1')).toEqual(before);
      expect((await ledgerState(bankB, 'twin-1')).balanceMinor).toBe('1250');
    });

    test.each([['bank-b'], ['BANK-A'], ['bank-a '], ['']])('when a debit to bank-a is signed for the audience "%s", then 401 UNAUTHENTICATED and no entry; signed for bank-a, the same debit is 200', async (audience) => {
      const accountId = `aud-${Buffer.from(audience).toString('hex') || 'empty'}`;
      const before = await openFunded(bankA, accountId);
      const path = `/v1/accounts/${accountId}/debits`;

      expectRefused(await send(bankA, capture(keys.workerNew, audience, 'POST', path, leg('t-aud', '5'))), 401, 'UNAUTHENTICATED');
      expect(await ledgerState(bankA, accountId)).toEqual(before);

      expect((await send(bankA, capture(keys.workerNew, 'bank-a', 'POST', path, leg('t-aud', '5')))).status).toBe(200);
      expect((await ledgerState(bankA, accountId)).balanceMinor).toBe('995');
    });
  });

  describe('old signatures', () => {
    const bodyHash = (body: string) => createHash('sha256').update(body).digest('hex');
    const legacyTexts: Array<[string, (path: string, ts: number, body: string) => string]> = [
      ['the v1 text (METHOD, path, ts, body hash)', (path, ts, body) => `POST\n${path}\n${ts}\n${bodyHash(body)}`],
      ['the v2 text without its "v2" line', (path, ts, body) => `POST\nbank-a\n${path}\n${ts}\n${bodyHash(body)}`],
    ];

    test.each(legacyTexts)('when a debit carries an HMAC with a valid secret over %s, then 401 UNAUTHENTICATED and no entry', async (name, canonical) => {
      const accountId = `legacy-${legacyTexts.findIndex(([known]) => known === name)}`;
      const before = await openFunded(bankA, accountId);
      const path = `/v1/accounts/${accountId}/debits`;
      const body = JSON.stringify(leg('t-legacy', '5'));
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', keys.workerOld.secret).update(canonical(path, ts, body)).digest('hex');

      expectRefused(await send(bankA, { method: 'POST', path, body, signature: `keyId=worker-1,ts=${ts},sig=${sig}` }), 401, 'UNAUTHENTICATED');
      expect(await ledgerState(bankA, accountId)).toEqual(before);
    });
  });

  describe('scopes', () => {
    // [who, what, method, path suffix (after /v1/accounts/<id>), body, the scope it needs]
    const outOfScope: Array<[KeyName, string, Method, string, unknown, string]> = [
      ['api', 'debits', 'POST', '/debits', leg('t-scope-in', '5'), 'ledger'],
      ['api', 'credits', 'POST', '/credits', leg('t-scope-in', '5'), 'ledger'],
      ['api', 'refunds the saga’s debit', 'POST', '/refunds', { transferId: 't-scope' }, 'ledger'],
      ['api', 'voids a credit', 'POST', '/credit-voids', { transferId: 't-scope-void' }, 'ledger'],
      ['workerNew', 'changes the daily limit', 'POST', '/daily-limit', { changeId: 'c-1', dailyDebitLimitMinor: '100' }, 'admin'],
      ['workerNew', 'freezes', 'POST', '/freeze', { changeId: 'c-1' }, 'admin'],
      ['workerOld', 'closes', 'POST', '/close', { changeId: 'c-1' }, 'admin'],
      ['workerNew', 'deposits', 'POST', '/deposits', { depositId: 'd-scope', amountMinor: '5', currency: 'EUR' }, 'admin'],
      ['workerNew', 'reads the account', 'GET', '', undefined, 'read'],
      ['workerOld', 'lists the entries', 'GET', '/entries', undefined, 'read'],
      ['recon', 'debits', 'POST', '/debits', leg('t-scope-in', '5'), 'ledger'],
      ['recon', 'credits', 'POST', '/credits', leg('t-scope-in', '5'), 'ledger'],
      ['recon', 'deposits', 'POST', '/deposits', { depositId: 'd-scope', amountMinor: '5', currency: 'EUR' }, 'admin'],
      ['recon', 'refunds the saga’s debit', 'POST', '/refunds', { transferId: 't-scope' }, 'ledger'],
      ['recon', 'voids a credit', 'POST', '/credit-voids', { transferId: 't-scope-void' }, 'ledger'],
      ['recon', 'freezes', 'POST', '/freeze', { changeId: 'c-1' }, 'admin'],
    ];

    /** An account the saga has debited 100 from (transfer t-scope), so that a refund would move money. */
    async function debitedAccount(accountId: string): Promise<LedgerState> {
      await openFunded(bankA, accountId);
      expect((await signedCall(bankA, 'workerOld', 'POST', `/v1/accounts/${accountId}/debits`, leg('t-scope', '100'))).status).toBe(200);
      const state = await ledgerState(bankA, accountId);
      expect([state.balanceMinor, state.operations.length]).toEqual(['900', 3]);
      return state;
    }

    test.each(outOfScope)('when the %s key %s, then 403 FORBIDDEN naming the needed scope and nothing changes; ops-1 passes the scope check', async (who, what, method, suffix, body, scope) => {
      const accountId = `scope-${outOfScope.findIndex((row) => row[0] === who && row[1] === what)}`;
      const before = await debitedAccount(accountId);
      const path = `/v1/accounts/${accountId}${suffix}`;

      const answer = await signedCall(bankA, who, method, path, body);
      expectRefused(answer, 403, 'FORBIDDEN');
      expect(answer.body.error?.message).toContain(`needs the ${scope} scope`);
      expect(await ledgerState(bankA, accountId)).toEqual(before);

      // The same request with the all-scopes key is not refused for its key: the 403 came from the scope alone.
      expect([401, 403]).not.toContain((await signedCall(bankA, 'ops', method, path, body)).status);
    });

    test('when the worker key opens an account, then 403 FORBIDDEN and the account does not exist afterwards', async () => {
      const answer = await signedCall(bankA, 'workerNew', 'POST', '/v1/accounts', { accountId: 'worker-opened', owner: 'Nobody', currency: 'EUR' });
      expectRefused(answer, 403, 'FORBIDDEN');
      expect(answer.body.error?.message).toContain('needs the admin scope');
      expectRefused(await signedCall(bankA, 'recon', 'GET', '/v1/accounts/worker-opened'), 404, 'ACCOUNT_NOT_FOUND');
    });

    test('when the reconciliation key reads the account list, an account and its entries, then 200 with the exact ledger', async () => {
      await debitedAccount('recon-read');
      const account = await signedCall(bankA, 'recon', 'GET', '/v1/accounts/recon-read');
      expect([account.status, account.body.accountId, account.body.bankId, account.body.balanceMinor]).toEqual([200, 'recon-read', 'bank-a', '900']);
      const entries = await signedCall(bankA, 'recon', 'GET', '/v1/accounts/recon-read/entries');
      expect(entries.status).toBe(200);
      expect((entries.body.data as Array<{ operationId: string; amountMinor: string }>).slice(1).map((entry) => [entry.operationId, entry.amountMinor])).toEqual([
        ['seed-recon-read:deposit', '1000'],
        ['t-scope:debit', '-100'],
      ]);
      const list = await signedCall(bankA, 'recon', 'GET', '/v1/accounts?limit=500');
      expect(list.status).toBe(200);
      expect((list.body.data as Array<{ accountId: string; balanceMinor: string }>).find((row) => row.accountId === 'recon-read')?.balanceMinor).toBe('900');
    });
  });

  describe('the keys within their scopes', () => {
    test('when the new worker key debits and credits, then 200 each and the balance moves by exactly those amounts', async () => {
      await openFunded(bankA, 'happy-worker');
      const debit = await signedCall(bankA, 'workerNew', 'POST', '/v1/accounts/happy-worker/debits', leg('t-happy-1', '300'));
      const credit = await signedCall(bankA, 'workerNew', 'POST', '/v1/accounts/happy-worker/credits', leg('t-happy-2', '45'));
      expect([debit.status, debit.body.balanceAfterMinor, credit.status, credit.body.balanceAfterMinor]).toEqual([200, '700', 200, '745']);
      expect(await ledgerState(bankA, 'happy-worker')).toEqual({ status: 'ACTIVE', balanceMinor: '745', operations: [expect.any(String), 'seed-happy-worker:deposit', 't-happy-1:debit', 't-happy-2:credit'] });
    });

    test('when the API key opens an account and deposits, then 201 and 200', async () => {
      const opened = await signedCall(bankA, 'api', 'POST', '/v1/accounts', { accountId: 'happy-api', owner: 'Api', currency: 'EUR' });
      const deposit = await signedCall(bankA, 'api', 'POST', '/v1/accounts/happy-api/deposits', { depositId: 'd-api', amountMinor: '70', currency: 'EUR' });
      expect([opened.status, deposit.status, deposit.body.balanceAfterMinor]).toEqual([201, 200, '70']);
    });

    test('when ops-1 (no scopes listed) opens, deposits, debits, credits, refunds, voids, reads and freezes, then none is refused for its key', async () => {
      const base = '/v1/accounts/happy-ops';
      const opened = await signedCall(bankA, 'ops', 'POST', '/v1/accounts', { accountId: 'happy-ops', owner: 'Ops', currency: 'EUR' });
      const steps = [
        await signedCall(bankA, 'ops', 'POST', `${base}/deposits`, { depositId: 'd-ops', amountMinor: '1000', currency: 'EUR' }),
        await signedCall(bankA, 'ops', 'POST', `${base}/debits`, leg('t-ops-1', '100')),
        await signedCall(bankA, 'ops', 'POST', `${base}/credits`, leg('t-ops-2', '20')),
        await signedCall(bankA, 'ops', 'POST', `${base}/refunds`, { transferId: 't-ops-1' }),
        await signedCall(bankA, 'ops', 'POST', `${base}/credit-voids`, { transferId: 't-ops-3' }),
        await signedCall(bankA, 'ops', 'GET', base),
        await signedCall(bankA, 'ops', 'GET', `${base}/entries`),
      ];
      expect([opened.status, ...steps.map((step) => step.status)]).toEqual([201, 200, 200, 200, 200, 200, 200, 200]);
      expect(steps[5]?.body.balanceMinor).toBe('1020');
      // Freeze is being given a changeId: either validation outcome is fine, a refusal of the key is not.
      expect([200, 400]).toContain((await signedCall(bankA, 'ops', 'POST', `${base}/freeze`, { changeId: 'c-1' })).status);
    });
  });

  describe('rotation', () => {
    test('when both worker-2 (new) and worker-1 (old) sign a debit during a rotation, then both are 200 and both entries are kept', async () => {
      await openFunded(bankA, 'rotating');
      const byNew = await signedCall(bankA, 'workerNew', 'POST', '/v1/accounts/rotating/debits', leg('t-rot-new', '10'));
      const byOld = await signedCall(bankA, 'workerOld', 'POST', '/v1/accounts/rotating/debits', leg('t-rot-old', '20'));
      expect([byNew.status, byOld.status]).toEqual([200, 200]);
      expect(await ledgerState(bankA, 'rotating')).toEqual({ status: 'ACTIVE', balanceMinor: '970', operations: [expect.any(String), 'seed-rotating:deposit', 't-rot-new:debit', 't-rot-old:debit'] });
    });

    test.each([['workerNew', 'worker-2'], ['workerOld', 'worker-1'], ['api', 'api-1'], ['recon', 'recon-1']] as Array<[KeyName, string]>)(
      'when GET /v1/whoami is signed by the %s key, then it names %s and the bank',
      async (key, keyId) => {
        const [atA, atB] = [await signedCall(bankA, key, 'GET', '/v1/whoami'), await signedCall(bankB, key, 'GET', '/v1/whoami')];
        expect([atA.status, atA.body]).toEqual([200, { bankId: 'bank-a', keyId }]);
        expect([atB.status, atB.body]).toEqual([200, { bankId: 'bank-b', keyId }]);
      },
    );

    test('when a debit is signed by a key id not listed (worker-3), or by worker-1 with worker-2’s secret, then 401 UNAUTHENTICATED and no entry', async () => {
      const before = await openFunded(bankA, 'rotation-unknown');
      const path = '/v1/accounts/rotation-unknown/debits';
      const unlisted = await send(bankA, capture({ keyId: 'worker-3', secret: 'x'.repeat(40) }, 'bank-a', 'POST', path, leg('t-unk', '5')));
      expectRefused(unlisted, 401, 'UNAUTHENTICATED');
      expect(unlisted.body.error?.message).toBe('unknown signing key');
      expectRefused(await send(bankA, capture({ keyId: 'worker-1', secret: keys.workerNew.secret }, 'bank-a', 'POST', path, leg('t-unk', '5'))), 401, 'UNAUTHENTICATED');
      const whoami = capture(keys.workerNew, 'bank-a', 'GET', '/v1/whoami');
      expectRefused(await send(bankA, { ...whoami, signature: whoami.signature.replace('keyId=worker-2', 'keyId=worker-3') }), 401, 'UNAUTHENTICATED');
      expect(await ledgerState(bankA, 'rotation-unknown')).toEqual(before);
    });
  });

  describe('captured requests', () => {
    test('when a debit is replayed byte for byte at the same bank within the window, then it answers the first decision and the balance moves once', async () => {
      await openFunded(bankA, 'replayed');
      const debit = capture(keys.workerOld, 'bank-a', 'POST', '/v1/accounts/replayed/debits', leg('t-replay', '5'));
      const first = await send(bankA, debit);
      const again = await send(bankA, debit);
      expect([first.status, first.body.balanceAfterMinor]).toEqual([200, '995']);
      expect(again).toEqual(first);
      expect(await ledgerState(bankA, 'replayed')).toEqual({ status: 'ACTIVE', balanceMinor: '995', operations: [expect.any(String), 'seed-replayed:deposit', 't-replay:debit'] });
    });

    const tampers: Array<[string, (body: string) => string]> = [
      ['the amount changed from 5 to 500', (body) => body.replace('"amountMinor":"5"', '"amountMinor":"500"')],
      ['the transfer id changed', (body) => body.replace('t-tamper', 't-tamper-2')],
      ['a space added (the same JSON)', (body) => body.replace('{', '{ ')],
    ];

    test.each(tampers)('when a signed debit is sent with %s after signing, then 401 UNAUTHENTICATED and no entry; the untouched capture is 200', async (name, tamper) => {
      const accountId = `tamper-${tampers.findIndex(([known]) => known === name)}`;
      const before = await openFunded(bankA, accountId);
      const debit = capture(keys.workerOld, 'bank-a', 'POST', `/v1/accounts/${accountId}/debits`, leg('t-tamper', '5'));
      const tampered = { ...debit, body: tamper(debit.body) };
      expect(tampered.body).not.toBe(debit.body);

      expectRefused(await send(bankA, tampered), 401, 'UNAUTHENTICATED');
      expect(await ledgerState(bankA, accountId)).toEqual(before);
      expect((await send(bankA, debit)).status).toBe(200);
      expect((await ledgerState(bankA, accountId)).balanceMinor).toBe('995');
    });

    test('when the timestamp of a captured debit is moved by one second, then 401 UNAUTHENTICATED and no entry', async () => {
      const before = await openFunded(bankA, 'tamper-ts');
      const debit = capture(keys.workerOld, 'bank-a', 'POST', '/v1/accounts/tamper-ts/debits', leg('t-ts', '5'));
      const signature = debit.signature.replace(/ts=(\d+)/, (_all, ts: string) => `ts=${Number(ts) - 1}`);
      expect(signature).not.toBe(debit.signature);
      expectRefused(await send(bankA, { ...debit, signature }), 401, 'UNAUTHENTICATED');
      expect(await ledgerState(bankA, 'tamper-ts')).toEqual(before);
    });
  });

  // Express matches routes case-insensitively and serves HEAD with the GET handlers: the scope check must see the same routes.
  describe('path spellings the router also serves', () => {
    const spellings: Array<[string, (accountId: string) => string]> = [
      ['an upper-case path', (accountId) => `/V1/ACCOUNTS/${accountId}/DEBITS`],
      ['a capitalised action', (accountId) => `/v1/accounts/${accountId}/Debits`],
      ['a capitalised collection', (accountId) => `/v1/Accounts/${accountId}/debits`],
      ['a trailing slash', (accountId) => `/v1/accounts/${accountId}/debits/`],
    ];

    test.each(spellings)('when the reconciliation key debits through %s, then 403 FORBIDDEN or 404 NOT_FOUND and no entry', async (name, pathOf) => {
      const accountId = `spelled-${spellings.findIndex(([known]) => known === name)}`;
      const before = await openFunded(bankA, accountId);
      const answer = await signedCall(bankA, 'recon', 'POST', pathOf(accountId), leg('t-spelled', '5'));
      expect([[403, 'FORBIDDEN'], [404, 'NOT_FOUND']]).toContainEqual([answer.status, answer.body.error?.code]);
      expect(await ledgerState(bankA, accountId)).toEqual(before);
    });

    test('when the reconciliation key opens an account through /V1/ACCOUNTS, then 403 FORBIDDEN or 404 NOT_FOUND and the account does not exist', async () => {
      const answer = await signedCall(bankA, 'recon', 'POST', '/V1/ACCOUNTS', { accountId: 'spelled-open', owner: 'Nobody', currency: 'EUR' });
      expect([[403, 'FORBIDDEN'], [404, 'NOT_FOUND']]).toContainEqual([answer.status, answer.body.error?.code]);
      expectRefused(await signedCall(bankA, 'recon', 'GET', '/v1/accounts/spelled-open'), 404, 'ACCOUNT_NOT_FOUND');
    });

    test('when the worker key asks HEAD of an account, then 403 like its GET (not 200, which tells the account exists)', async () => {
      await openFunded(bankA, 'headed');
      expect((await signedCall(bankA, 'workerNew', 'HEAD', '/v1/accounts/headed')).status).toBe(403);
    });
  });
});
