import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import type { EventStore } from '../../../lib/events/event-store';
import { ApiError } from '../../../lib/http/errors';
import { buildTransferApi } from '../../../services/transfer-api/app';
import { hashApiKey } from '../../../services/transfer-api/config';
import { BankAccounts } from '../../../services/transfer-api/gateways/bank-accounts';
import type { LiquidityRequest, ParticipantRow, SettlementBank } from '../../../services/transfer-api/gateways/settlement-bank';
import type { SettlementWindows, WindowView } from '../../../services/transfer-api/gateways/settlement-windows';
import type { Mandate } from '../../../services/transfer-api/mandates';
import { defaultSettlementCurrency, liquidityRequest, netDebitCapRequest, participantsText, windowText } from '../../../services/transfer-api/cli/settlement-commands';
import { recordingBankFetch } from '../../support/fakes/bank-fetch';
import { portFake } from '../../support/fakes/port-fake';
import { FakeReconciliations } from '../../support/fakes/reconciliations';
import { FakeTransferRecords } from '../../support/fakes/transfer-records';
import { FakeTransferWorkflows } from '../../support/fakes/transfer-workflows';

/**
 * The `settlement` commands of the operator CLI, each run as its own process against the
 * transfer API in-process, whose settlement bank and windows are fakes: the CLI's requests go
 * through the real routes and their validation, and its tables and errors are read as printed.
 */
const projectRoot = join(__dirname, '..', '..', '..');
const operatorKey = 'operator-in-process-key-0000000000';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as its own process; asynchronous, so that the API in this process keeps answering it. */
function runCli(baseUrl: string, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(projectRoot, 'services/transfer-api/cli/main.ts'), '--api-url', baseUrl, '--api-key', operatorKey, ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function runJson<T>(run: CliRun): T {
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(run.stdout) as T;
}

/** A deferred-net settlement bank of two participants in EUR, kept in memory. */
class FakeSettlementBank {
  readonly participants = ['bank-a', 'bank-b'];
  readonly fundsCalls: Array<{ move: 'in' | 'out'; bankId: string; funds: LiquidityRequest }> = [];
  readonly capChanges: Array<{ bankId: string; currency: string; amountMinor: string; changeId: string }> = [];
  private readonly state = new Map(this.participants.map((bankId) => [bankId, { reserve: 100_000n, cap: 50_000n, owed: 0n }]));
  private readonly decided = new Set<string>();

  row(bankId: string, currency: string): ParticipantRow {
    const s = this.of(bankId, currency);
    return { bankId, currency, reserveMinor: String(s.reserve), netDebitCapMinor: String(s.cap), positionMinor: String(s.owed), availableMinor: String(s.cap - s.owed) };
  }

  port(): SettlementBank {
    return portFake<SettlementBank>('SettlementBank', {
      model: 'deferred-net',
      config: { model: 'deferred-net', bankId: 'settlement', url: 'http://settlement.invalid', currencies: ['EUR'], openingReserveMinor: 0n, openingNetDebitCapMinor: 0n, windowMinutes: 0 },
      rows: () => Promise.resolve(this.participants.map((bankId) => this.row(bankId, 'EUR'))),
      fundsIn: (bankId, funds) => this.move('in', bankId, funds),
      fundsOut: (bankId, funds) => this.move('out', bankId, funds),
      setNetDebitCap: (bankId, currency, amountMinor, changeId) => {
        this.capChanges.push({ bankId, currency, amountMinor, changeId });
        const s = this.of(bankId, currency);
        if (BigInt(amountMinor) > s.reserve) return Promise.reject(new ApiError('NET_DEBIT_CAP_ABOVE_RESERVE', `a Net Debit Cap of ${amountMinor} is above the reserve of ${s.reserve}`, 'amountMinor'));
        s.cap = BigInt(amountMinor);
        return Promise.resolve(this.row(bankId, currency));
      },
    });
  }

  private move(move: 'in' | 'out', bankId: string, funds: LiquidityRequest): Promise<ParticipantRow> {
    this.fundsCalls.push({ move, bankId, funds });
    const s = this.of(bankId, funds.currency);
    const key = `${move}:${funds.fundsId}`;
    if (!this.decided.has(key)) {
      const amount = BigInt(funds.amountMinor);
      if (move === 'out' && s.reserve - amount < s.cap) return Promise.reject(new ApiError('INSUFFICIENT_LIQUIDITY', `the reserve would be ${s.reserve - amount}, below the Net Debit Cap of ${s.cap}; lower the cap first`, 'amountMinor'));
      s.reserve += move === 'in' ? amount : -amount;
      this.decided.add(key);
    }
    return Promise.resolve(this.row(bankId, funds.currency));
  }

  private of(bankId: string, currency: string): { reserve: bigint; cap: bigint; owed: bigint } {
    const s = this.state.get(bankId);
    if (!s) throw new ApiError('BANK_NOT_FOUND', `no participant ${bankId}; GET /v1/settlement/participants lists them`, 'bankId');
    if (currency !== 'EUR') throw new ApiError('VALIDATION_FAILED', `the settlement bank holds no ${currency}: SETTLEMENT_CURRENCIES is EUR`, 'currency');
    return s;
  }
}

/** Window w-000001 (open, two transfers, one in flight) and nothing before it; a closed window moves one state further after every read. */
class FakeSettlementWindows {
  readonly windows: WindowView[] = [
    {
      windowId: 'w-000001',
      state: 'OPEN',
      openedAt: '2026-12-01T08:00:00.000Z',
      closedAt: null,
      settledAt: null,
      transfers: 2,
      inFlight: 1,
      positions: [
        { bankId: 'bank-a', currency: 'EUR', netMinor: '-1500' },
        { bankId: 'bank-b', currency: 'EUR', netMinor: '1500' },
      ],
      entries: [],
    },
  ];
  port(): SettlementWindows {
    return portFake<SettlementWindows>('SettlementWindows', {
      get: (windowId) => {
        const window = this.windows.find((w) => w.windowId === windowId);
        if (!window) return Promise.resolve(undefined);
        const read = structuredClone(window);
        this.advance(window);
        return Promise.resolve(read);
      },
      list: (limit, before) => {
        const older = this.windows.filter((w) => before === undefined || w.windowId < before);
        const page = older.slice(0, limit);
        return Promise.resolve({ data: structuredClone(page), nextCursor: older.length > limit ? (page.at(-1)?.windowId ?? null) : null });
      },
      close: () => {
        const open = this.windows[0];
        if (!open) throw new Error('no open window');
        const next = `w-${String(Number(open.windowId.slice(2)) + 1).padStart(6, '0')}`;
        open.state = 'CLOSED';
        open.closedAt = '2026-12-01T12:00:00.000Z';
        this.windows.unshift({ windowId: next, state: 'OPEN', openedAt: open.closedAt, closedAt: null, settledAt: null, transfers: 0, inFlight: 0, positions: [], entries: [] });
        return Promise.resolve({ windowId: open.windowId, nextWindowId: next });
      },
    });
  }

  private advance(window: WindowView): void {
    if (window.state === 'CLOSED') {
      window.state = 'SETTLING';
      window.inFlight = 0;
      window.transfers = 3;
    } else if (window.state === 'SETTLING') {
      window.state = 'SETTLED';
      window.settledAt = '2026-12-01T12:00:05.000Z';
      window.entries = [
        { bankId: 'bank-a', currency: 'EUR', accountId: 'reserve.bank-a.EUR', operationId: `settle.${window.windowId}.bank-a.EUR:debit`, amountMinor: '1500' },
        { bankId: 'bank-b', currency: 'EUR', accountId: 'reserve.bank-b.EUR', operationId: `settle.${window.windowId}.bank-b.EUR:credit`, amountMinor: '1500' },
      ];
    }
  }
}

function listen(app: ReturnType<typeof buildTransferApi>['app']): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

describe('operator CLI: settlement', () => {
  let server: Server;
  let baseUrl: string;
  let bank: FakeSettlementBank;
  let windows: FakeSettlementWindows;

  beforeAll(async () => {
    bank = new FakeSettlementBank();
    windows = new FakeSettlementWindows();
    const everyBank: Mandate = { kind: 'banks', banks: new Set(['bank-a', 'bank-b']) };
    const { app } = buildTransferApi({
      logger: pino({ level: 'silent' }),
      apiKeys: [{ name: 'operator', role: 'operator', keyHash: hashApiKey(operatorKey) }],
      workflows: new FakeTransferWorkflows(),
      records: new FakeTransferRecords().asStore(),
      banks: new BankAccounts([{ bankId: 'bank-a', url: 'http://bank-a.invalid' }], { keyId: 'in-process', secret: 's'.repeat(32) }, 1_000, recordingBankFetch().fetch),
      reconciliations: new FakeReconciliations(),
      policy: { approvalThresholdMinor: '1000000', approvalTimeoutMs: 60_000, amountMaxMinor: '100000000000', banks: ['bank-a', 'bank-b'], refundAttentionAfterAttempts: 3 },
      authority: { clientMandates: new Map([['client-a', everyBank]]), approvalFourEyes: true },
      rateLimitPerMinute: 1_000,
      transferOverdueAfterMs: 60_000,
      events: portFake<EventStore>('EventStore', {}),
      allowedWebhookHosts: [],
      settlement: bank.port(),
      settlementWindows: windows.port(),
    });
    server = await listen(app);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (!server) return;
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  });

  describe('the table and text functions, with fixed rows', () => {
    test('when participants are formatted, then the model is on a line above the table, and a gross row shows no cap', () => {
      const text = participantsText({
        model: 'DEFERRED_NET',
        data: [
          { bankId: 'bank-a', currency: 'EUR', reserveMinor: '100000', netDebitCapMinor: '50000', positionMinor: '1500', availableMinor: '48500' },
          { bankId: 'bank-b', currency: 'EUR', reserveMinor: '20', netDebitCapMinor: null, positionMinor: '0', availableMinor: '20' },
        ],
      });
      expect(text.split('\n')).toEqual([
        'model: DEFERRED_NET',
        'bank    currency  reserve  cap    position  available',
        '------  --------  -------  -----  --------  ---------',
        'bank-a  EUR       100000   50000  1500      48500',
        'bank-b  EUR       20       n/a    0         20',
      ]);
    });

    test('when a window is formatted, then its row, its positions and its entries are printed; before it settles, no entries', () => {
      const open: WindowView = { windowId: 'w-000007', state: 'OPEN', openedAt: '2026-12-01T08:00:00.000Z', closedAt: null, settledAt: null, transfers: 4, inFlight: 2, positions: [{ bankId: 'bank-a', currency: 'EUR', netMinor: '-10' }], entries: [] };
      expect(windowText(open).split('\n')).toEqual([
        'window    state  opened                    closed  transfers  in flight',
        '--------  -----  ------------------------  ------  ---------  ---------',
        'w-000007  OPEN   2026-12-01T08:00:00.000Z          4          2',
        '',
        'positions:',
        'bank    currency  net',
        '------  --------  ---',
        'bank-a  EUR       -10',
        '',
        'entries: none (the settlement bank writes them when the window settles)',
      ]);
      const settled = windowText({ ...open, state: 'SETTLED', closedAt: '2026-12-01T12:00:00.000Z', settledAt: '2026-12-01T12:00:05.000Z', inFlight: 0, entries: [{ bankId: 'bank-a', currency: 'EUR', accountId: 'reserve.bank-a.EUR', operationId: 'op-1', amountMinor: '10' }] });
      expect(settled).toContain('settled at 2026-12-01T12:00:05.000Z');
      expect(settled).toMatch(/entries:\nbank\s+currency\s+account\s+operation\s+amount\n[- ]+\nbank-a\s+EUR\s+reserve\.bank-a\.EUR\s+op-1\s+10$/);
    });

    test('when no funds id or currency is given, then the funds id is a new UUID and the currency EUR; a given --funds-id and --currency win', () => {
      const first = liquidityRequest('500', {});
      const second = liquidityRequest('500', {});
      expect(first).toEqual({ fundsId: expect.stringMatching(uuid) as string, amountMinor: '500', currency: 'EUR' });
      expect(second.fundsId).not.toBe(first.fundsId);
      expect(defaultSettlementCurrency).toBe('EUR');
      expect(liquidityRequest('500', { fundsId: 'wire-001', currency: 'USD' })).toEqual({ fundsId: 'wire-001', amountMinor: '500', currency: 'USD' });
      expect(netDebitCapRequest('9', {})).toEqual({ idempotencyKey: expect.stringMatching(uuid) as string, body: { amountMinor: '9', currency: 'EUR' } });
      expect(netDebitCapRequest('9', { idempotencyKey: 'k-1', currency: 'USD' })).toEqual({ idempotencyKey: 'k-1', body: { amountMinor: '9', currency: 'USD' } });
    });
  });

  describe('against the API', () => {
    test('when participants are listed, then the model line and a row per participant are printed', async () => {
      const run = await runCli(baseUrl, 'settlement', 'participants');
      expect(run).toMatchObject({ status: 0, stderr: '' });
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('model: DEFERRED_NET');
      expect(lines[1]).toMatch(/^bank\s+currency\s+reserve\s+cap\s+position\s+available$/);
      expect(lines.slice(3)).toEqual([expect.stringMatching(/^bank-a\s+EUR\s+100000\s+50000\s+0\s+50000$/), expect.stringMatching(/^bank-b\s+EUR\s+100000\s+50000\s+0\s+50000$/)]);
      expect(runJson<{ model: string; data: unknown[] }>(await runCli(baseUrl, '--json', 'settlement', 'participants'))).toEqual({ model: 'DEFERRED_NET', data: [bank.row('bank-a', 'EUR'), bank.row('bank-b', 'EUR')] });
    });

    test('when funds are paid in without a funds id, then a new UUID is sent and printed, and --funds-id with it repeats without paying twice', async () => {
      const run = await runCli(baseUrl, 'settlement', 'funds-in', 'bank-a', '2500');
      expect(run).toMatchObject({ status: 0, stderr: '' });
      const fundsId = /funds id ([^)]+)\)/.exec(run.stdout)?.[1] ?? '';
      expect(fundsId).toMatch(uuid);
      expect(run.stdout).toContain(`funds-in 2500 EUR (funds id ${fundsId})`);
      expect(run.stdout).toMatch(/bank-a\s+EUR\s+102500\s+50000\s+0\s+50000/);
      expect(bank.fundsCalls.at(-1)).toEqual({ move: 'in', bankId: 'bank-a', funds: { fundsId, amountMinor: '2500', currency: 'EUR' } });

      const retry = runJson<{ fundsId: string; participant: ParticipantRow }>(await runCli(baseUrl, '--json', 'settlement', 'funds-in', 'bank-a', '2500', '--funds-id', fundsId));
      expect(retry).toEqual({ fundsId, participant: expect.objectContaining({ bankId: 'bank-a', reserveMinor: '102500' }) as ParticipantRow });
    });

    test('when funds are paid out, then the reserve falls; past the cap, the API error code and message and the funds id to retry with are printed and the exit is non-zero', async () => {
      const out = runJson<{ fundsId: string; participant: ParticipantRow }>(await runCli(baseUrl, '--json', 'settlement', 'funds-out', 'bank-b', '1000', '--funds-id', 'wire-out-1', '--currency', 'EUR'));
      expect(out).toEqual({ fundsId: 'wire-out-1', participant: expect.objectContaining({ bankId: 'bank-b', reserveMinor: '99000' }) as ParticipantRow });

      const refused = await runCli(baseUrl, 'settlement', 'funds-out', 'bank-b', '60000', '--funds-id', 'wire-out-2');
      expect(refused.status).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain('error 422 INSUFFICIENT_LIQUIDITY: the reserve would be 39000, below the Net Debit Cap of 50000');
      expect(refused.stderr).toContain('--funds-id wire-out-2 repeats this funds-out');
    });

    test('when the bank or the amount is wrong, then the API refuses it before the settlement bank is asked', async () => {
      const unknown = await runCli(baseUrl, 'settlement', 'funds-in', 'bank-z', '1');
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toMatch(/^error 404 BANK_NOT_FOUND: no participant bank-z/);
      const calls = bank.fundsCalls.length;
      const invalid = await runCli(baseUrl, 'settlement', 'funds-in', 'bank-a', 'ten');
      expect(invalid.status).toBe(1);
      expect(invalid.stderr).toMatch(/^error 400 VALIDATION_FAILED: /);
      expect(bank.fundsCalls).toHaveLength(calls);
    });

    test('when a Net Debit Cap is set, then it is a PUT under an Idempotency-Key, printed; a given key is sent as it is; above the reserve it is refused with the key', async () => {
      const run = await runCli(baseUrl, 'settlement', 'ndc', 'bank-a', '40000');
      expect(run).toMatchObject({ status: 0, stderr: '' });
      const key = /Idempotency-Key ([^)]+)\)/.exec(run.stdout)?.[1] ?? '';
      expect(key).toMatch(uuid);
      expect(run.stdout).toMatch(/bank-a\s+EUR\s+102500\s+40000\s+0\s+40000/);
      expect(bank.capChanges.at(-1)).toEqual({ bankId: 'bank-a', currency: 'EUR', amountMinor: '40000', changeId: key });

      const given = runJson<{ idempotencyKey: string; participant: ParticipantRow }>(await runCli(baseUrl, '--json', 'settlement', 'ndc', 'bank-a', '45000', '--idempotency-key', 'cap-change-1'));
      expect(given).toEqual({ idempotencyKey: 'cap-change-1', participant: expect.objectContaining({ netDebitCapMinor: '45000' }) as ParticipantRow });
      expect(bank.capChanges.at(-1)?.changeId).toBe('cap-change-1');

      const above = await runCli(baseUrl, 'settlement', 'ndc', 'bank-a', '999999', '--idempotency-key', 'cap-change-2');
      expect(above.status).toBe(1);
      expect(above.stderr).toContain('error 422 NET_DEBIT_CAP_ABOVE_RESERVE: a Net Debit Cap of 999999 is above the reserve of 102500 (Idempotency-Key cap-change-2;');
    });

    test('when windows are listed and one is read, then the table, its positions and its entries are printed; an unknown one is 404', async () => {
      const list = await runCli(baseUrl, 'settlement', 'windows', '--limit', '5');
      expect(list).toMatchObject({ status: 0, stderr: '' });
      expect(list.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^window\s+state\s+opened\s+closed\s+transfers\s+in flight$/), expect.stringMatching(/^-/), expect.stringMatching(/^w-000001\s+OPEN\s+2026-12-01T08:00:00.000Z\s+2\s+1$/)]);

      const one = await runCli(baseUrl, 'settlement', 'window', 'w-000001');
      expect(one).toMatchObject({ status: 0, stderr: '' });
      expect(one.stdout).toMatch(/positions:\nbank\s+currency\s+net\n[- ]+\nbank-a\s+EUR\s+-1500\nbank-b\s+EUR\s+1500\n\nentries: none/);

      const missing = await runCli(baseUrl, 'settlement', 'window', 'w-000099');
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/^error 404 NOT_FOUND: no settlement window w-000099/);
    });

    test('when the window is closed with --wait, then the ids are printed, a line per state until SETTLED, and its positions', async () => {
      const run = await runCli(baseUrl, 'settlement', 'close', '--wait', '--interval-ms', '50');
      expect(run.status).toBe(0);
      expect(run.stderr.trimEnd().split('\n')).toEqual(['window w-000001 CLOSED (1 in flight)', 'window w-000001 SETTLING (0 in flight)', 'window w-000001 SETTLED']);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines.slice(0, 3)).toEqual(['closed w-000001; w-000002 is open', 'window w-000001 settled at 2026-12-01T12:00:05.000Z', 'positions:']);
      expect(lines.slice(5)).toEqual([expect.stringMatching(/^bank-a\s+EUR\s+-1500$/), expect.stringMatching(/^bank-b\s+EUR\s+1500$/)]);

      const window = runJson<WindowView>(await runCli(baseUrl, '--json', 'settlement', 'window', 'w-000001'));
      expect(window).toMatchObject({ state: 'SETTLED', transfers: 3, entries: [expect.objectContaining({ accountId: 'reserve.bank-a.EUR' }), expect.objectContaining({ accountId: 'reserve.bank-b.EUR' })] });
    });

    test('when the window is closed without --wait, then only the ids are printed (JSON for scripts)', async () => {
      expect(runJson<unknown>(await runCli(baseUrl, '--json', 'settlement', 'close'))).toEqual({ windowId: 'w-000002', nextWindowId: 'w-000003' });
      const list = runJson<{ data: WindowView[]; nextCursor: string | null }>(await runCli(baseUrl, '--json', 'settlement', 'windows', '--limit', '2'));
      expect(list.data.map((w) => [w.windowId, w.state])).toEqual([
        ['w-000003', 'OPEN'],
        ['w-000002', 'CLOSED'],
      ]);
      expect(list.nextCursor).toBe('w-000002');
    });
  });
});
