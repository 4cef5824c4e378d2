import { AccountServiceClient, AccountServiceUnreachableError, type AccountServiceResponse } from '../../../lib/clients/account-service-client';
import { accountViewSchema, errorAnswerSchema, type AccountView } from '../../../lib/contracts/account-service-contract';
import { formatMinor } from '../../../lib/contracts/money';
import { fundsOutTransferId, positionAccountId, reserveAccountId, type SettlementModel } from '../../../lib/contracts/settlement';
import type { SigningKey } from '../../../lib/crypto/request-signing';
import { ApiError } from '../../../lib/http/errors';
import type { SettlementConfig } from '../settlement-config';

/** One participant bank in one currency, as the settlement bank's ledger has it. */
export interface ParticipantRow {
  bankId: string;
  currency: string;
  reserveMinor: string;
  /** Deferred-net only (null in gross): the most the bank may owe. */
  netDebitCapMinor: string | null;
  /** What the bank owes and has not settled (negative when it is owed); 0 in gross, which settles at once. */
  positionMinor: string;
  /** What the bank may still send: the cap less what it owes (deferred-net), or its reserve (gross). */
  availableMinor: string;
}

/** A funds-in or funds-out: idempotent by `fundsId`. */
export interface LiquidityRequest {
  fundsId: string;
  amountMinor: string;
  currency: string;
}

/** The API's calls to the settlement bank: opening the participants' accounts, reading them. */
export class SettlementBank {
  private readonly client: AccountServiceClient;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    readonly config: SettlementConfig,
    readonly participants: readonly string[],
    signingKey: SigningKey,
    requestTimeoutMs: number,
    fetchImpl?: typeof fetch,
  ) {
    this.client = new AccountServiceClient({ bankId: config.bankId, baseUrl: config.url, signingKey, requestTimeoutMs, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  }

  get model(): SettlementModel {
    return this.config.model;
  }

  /**
   * Opens every participant's reserve and position per currency and funds the reserve once, each
   * idempotent (an account already open with the same fields, a deposit already made, answer as
   * the first time), so that every start of every API instance may run it.
   */
  async openParticipants(): Promise<void> {
    const { currencies, openingReserveMinor, openingNetDebitCapMinor } = this.config;
    for (const bankId of this.participants) {
      for (const currency of currencies) {
        const reserve = reserveAccountId(bankId, currency);
        await this.open(reserve, `reserve of ${bankId}`, currency, 0n);
        await this.open(positionAccountId(bankId, currency), `position of ${bankId}`, currency, openingNetDebitCapMinor);
        if (openingReserveMinor > 0n) await this.expect(200, 'POST', `/v1/accounts/${reserve}/deposits`, { depositId: 'opening-reserve', amountMinor: formatMinor(openingReserveMinor), currency });
      }
    }
  }

  private async open(accountId: string, owner: string, currency: string, overdraftLimitMinor: bigint): Promise<void> {
    const answer = await this.call('POST', '/v1/accounts', { accountId, owner, currency, overdraftLimitMinor: formatMinor(overdraftLimitMinor) });
    // Opened before with other fields (an operator changed the cap since): the account stands as it is.
    if (answer.status === 409) return;
    if (answer.status !== 201 && answer.status !== 200) throw this.unexpected(answer, `opening ${accountId}`);
  }

  /** Funds paid into the bank's reserve, once per `fundsId`. */
  async fundsIn(bankId: string, funds: LiquidityRequest): Promise<ParticipantRow> {
    this.assertParticipant(bankId, funds.currency);
    const answer = await this.call('POST', `/v1/accounts/${reserveAccountId(bankId, funds.currency)}/deposits`, { depositId: funds.fundsId, amountMinor: funds.amountMinor, currency: funds.currency });
    if (answer.status !== 200) throw this.refusal(answer, `funds-in ${funds.fundsId}`);
    return this.row(bankId, funds.currency);
  }

  /**
   * Funds paid out of the bank's reserve, once per `fundsId`: never below its Net Debit Cap
   * (deferred-net), which is never below what it owes, so a reserve always covers the debt; never
   * below zero (gross). A repeat of a `fundsId` answers as its first decision.
   */
  async fundsOut(bankId: string, funds: LiquidityRequest): Promise<ParticipantRow> {
    this.assertParticipant(bankId, funds.currency);
    return this.serialised(bankId, funds.currency, async () => {
      if (this.model === 'deferred-net') {
        const row = await this.row(bankId, funds.currency);
        const left = BigInt(row.reserveMinor) - BigInt(funds.amountMinor);
        if (left < BigInt(row.netDebitCapMinor ?? '0') && !(await this.decided(bankId, funds))) {
          throw new ApiError('INSUFFICIENT_LIQUIDITY', `the reserve would be ${formatMinor(left)}, below the Net Debit Cap of ${row.netDebitCapMinor ?? '0'}; lower the cap first`, 'amountMinor');
        }
      }
      const answer = await this.call('POST', `/v1/accounts/${reserveAccountId(bankId, funds.currency)}/debits`, { transferId: fundsOutTransferId(funds.fundsId), amountMinor: funds.amountMinor, currency: funds.currency });
      if (answer.status !== 200) throw this.refusal(answer, `funds-out ${funds.fundsId}`);
      return this.row(bankId, funds.currency);
    });
  }

  /**
   * The Net Debit Cap (deferred-net): never above the reserve, and never below what the bank owes
   * now (the ledger refuses a cap it would be past at once). `changeId` makes a repeat answer the
   * first decision.
   */
  async setNetDebitCap(bankId: string, currency: string, amountMinor: string, changeId: string): Promise<ParticipantRow> {
    this.assertParticipant(bankId, currency);
    if (this.model !== 'deferred-net') throw new ApiError('VALIDATION_FAILED', 'immediate-gross settlement has no Net Debit Cap: each transfer moves reserves at once', 'amountMinor');
    return this.serialised(bankId, currency, async () => {
      const row = await this.row(bankId, currency);
      if (BigInt(amountMinor) > BigInt(row.reserveMinor) && row.netDebitCapMinor !== amountMinor) {
        throw new ApiError('NET_DEBIT_CAP_ABOVE_RESERVE', `a Net Debit Cap of ${amountMinor} is above the reserve of ${row.reserveMinor}`, 'amountMinor');
      }
      const answer = await this.call('POST', `/v1/accounts/${positionAccountId(bankId, currency)}/overdraft-limit`, { changeId, overdraftLimitMinor: amountMinor });
      const refused = errorAnswerSchema.safeParse(answer.body);
      if (answer.status === 422 && refused.success && refused.data.error.code === 'OVERDRAFT_BELOW_BALANCE') {
        throw new ApiError('NET_DEBIT_CAP_BELOW_POSITION', `a Net Debit Cap of ${amountMinor} is below the ${row.positionMinor} the bank owes now`, 'amountMinor');
      }
      if (answer.status !== 200) throw this.refusal(answer, `the Net Debit Cap change ${changeId}`);
      return this.row(bankId, currency);
    });
  }

  /** Whether a funds-out was decided already (its repeat then answers the first decision, whatever the cap is now). */
  private async decided(bankId: string, funds: LiquidityRequest): Promise<boolean> {
    const answer = await this.call('GET', `/v1/accounts/${reserveAccountId(bankId, funds.currency)}/operations/${encodeURIComponent(`${fundsOutTransferId(funds.fundsId)}:debit`)}`);
    return answer.status === 200;
  }

  /** Liquidity changes of one participant and currency run one at a time in this process (a cap check and its write must not interleave with another's). */
  private serialised<T>(bankId: string, currency: string, run: () => Promise<T>): Promise<T> {
    const key = `${bankId}/${currency}`;
    const next = (this.queues.get(key) ?? Promise.resolve()).then(run, run);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  private assertParticipant(bankId: string, currency: string): void {
    if (!this.participants.includes(bankId)) throw new ApiError('BANK_NOT_FOUND', `no participant ${bankId}; GET /v1/settlement/participants lists them`, 'bankId');
    if (!this.config.currencies.includes(currency)) throw new ApiError('VALIDATION_FAILED', `the settlement bank holds no ${currency}: SETTLEMENT_CURRENCIES is ${this.config.currencies.join(',')}`, 'currency');
  }

  /** A refusal of the settlement bank, in the API's terms. */
  private refusal(answer: AccountServiceResponse, doing: string): Error {
    const parsed = errorAnswerSchema.safeParse(answer.body);
    const code = parsed.success ? parsed.data.error.code : undefined;
    if (code === 'INSUFFICIENT_FUNDS') return new ApiError('INSUFFICIENT_LIQUIDITY', `the reserve does not cover ${doing}`, 'amountMinor');
    if ((code === 'IDEMPOTENCY_CONFLICT' || code === 'IDEMPOTENCY_KEY_REUSED') && parsed.success) return new ApiError(code, `${doing}: ${parsed.data.error.message}`, code === 'IDEMPOTENCY_CONFLICT' ? 'fundsId' : 'Idempotency-Key');
    return this.unexpected(answer, doing);
  }

  /** Signed GETs for the window tally. */
  readonly reader = {
    get: async (path: string): Promise<{ status: number; body: unknown }> => {
      const answer = await this.call('GET', path);
      return { status: answer.status, body: answer.body };
    },
  };

  /** Marks a position chain with a window (idempotent: a chain marked with it before answers the same). */
  async markWindow(accountId: string, windowId: string): Promise<void> {
    await this.expect(200, 'POST', `/v1/accounts/${accountId}/windows`, { windowId });
  }

  /** Every participant row, in bank then currency order. */
  async rows(): Promise<ParticipantRow[]> {
    const rows: ParticipantRow[] = [];
    for (const bankId of this.participants) for (const currency of this.config.currencies) rows.push(await this.row(bankId, currency));
    return rows;
  }

  async row(bankId: string, currency: string): Promise<ParticipantRow> {
    const reserve = await this.account(reserveAccountId(bankId, currency));
    const reserveMinor = BigInt(reserve.balanceMinor);
    if (this.model === 'immediate-gross') return { bankId, currency, reserveMinor: formatMinor(reserveMinor), netDebitCapMinor: null, positionMinor: '0', availableMinor: formatMinor(reserveMinor) };
    const position = await this.account(positionAccountId(bankId, currency));
    const owedMinor = -BigInt(position.balanceMinor);
    const capMinor = BigInt(position.overdraftLimitMinor);
    return { bankId, currency, reserveMinor: formatMinor(reserveMinor), netDebitCapMinor: formatMinor(capMinor), positionMinor: formatMinor(owedMinor), availableMinor: formatMinor(capMinor - owedMinor) };
  }

  private async account(accountId: string): Promise<AccountView> {
    const answer = await this.call('GET', `/v1/accounts/${accountId}`);
    const parsed = accountViewSchema.safeParse(answer.body);
    if (answer.status === 200 && parsed.success) return parsed.data;
    throw this.unexpected(answer, `reading ${accountId}`);
  }

  private async expect(status: number, method: 'GET' | 'POST', path: string, payload?: unknown): Promise<AccountServiceResponse> {
    const answer = await this.call(method, path, payload);
    if (answer.status !== status) throw this.unexpected(answer, `${method} ${path}`);
    return answer;
  }

  async call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<AccountServiceResponse> {
    try {
      return await this.client.request(method, path, payload);
    } catch (error) {
      if (error instanceof AccountServiceUnreachableError) throw new ApiError('BANK_UNAVAILABLE', `the settlement bank did not answer; retry later`, undefined, { 'retry-after': '5' });
      throw error;
    }
  }

  private unexpected(answer: AccountServiceResponse, doing: string): Error {
    const parsed = errorAnswerSchema.safeParse(answer.body);
    const detail = parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : 'no error body';
    if (answer.status >= 500 || answer.status === 401 || answer.status === 403) return new ApiError('BANK_UNAVAILABLE', `the settlement bank could not serve ${doing} (${answer.status} ${detail}); retry later`, undefined, { 'retry-after': '5' });
    return new Error(`the settlement bank answered ${answer.status} to ${doing}: ${detail}`);
  }
}
