import { ApplicationFailure } from '@temporalio/activity';
import { AccountServiceClient, AccountServiceUnreachableError, type AccountServiceResponse } from '../lib/clients/account-service-client';
import { accountViewSchema, errorAnswerSchema, ledgerEntryViewSchema, type LedgerEntryView } from '../lib/contracts/account-service-contract';
import { formatMinor } from '../lib/contracts/money';
import { positionAccountId, reserveAccountId, type SettlementEntry, type WindowReport } from '../lib/contracts/settlement';
import type { SigningKey } from '../lib/crypto/request-signing';
import { SettlementReadError, tallyWindow, type SettlementBankReader, type WindowScope, type WindowTally } from '../lib/settlement/window-tally';
import type { SettlementWindowStore, WindowState } from '../lib/settlement/window-store';

export type { WindowScope, WindowTally } from '../lib/settlement/window-tally';

export interface ParticipantSettlement {
  windowId: string;
  bankId: string;
  currency: string;
  /** What the bank receives (negative: pays). */
  netMinor: string;
}

export interface SettlementWindowActivitiesOptions {
  settlementBank: { bankId: string; url: string };
  signingKey: SigningKey;
  requestTimeoutMs: number;
  windows: SettlementWindowStore;
  fetch?: typeof fetch;
}

/** Transport faults and answers the contract does not describe are retried; the settlement bank decides each operation once. */
const unavailable = 'SETTLEMENT_BANK_UNAVAILABLE';

/**
 * The settlement bank's side of closing and settling a window. Every write is an operation with
 * an id derived from the window, so a retried activity or a resumed workflow repeats nothing.
 */
export function createSettlementWindowActivities(options: SettlementWindowActivitiesOptions) {
  const client = new AccountServiceClient({ bankId: options.settlementBank.bankId, baseUrl: options.settlementBank.url, signingKey: options.signingKey, requestTimeoutMs: options.requestTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });

  async function call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<AccountServiceResponse> {
    try {
      const answer = await client.request(method, path, payload);
      if (answer.status >= 500 || answer.status === 401 || answer.status === 403) throw ApplicationFailure.retryable(`the settlement bank answered ${answer.status} to ${method} ${path}`, unavailable);
      return answer;
    } catch (error) {
      if (error instanceof AccountServiceUnreachableError) throw ApplicationFailure.retryable(error.message, unavailable);
      throw error;
    }
  }

  const reader: SettlementBankReader = {
    get: async (path) => {
      const answer = await call('GET', path);
      return { status: answer.status, body: answer.body };
    },
  };

  function codeOf(answer: AccountServiceResponse): string | undefined {
    const parsed = errorAnswerSchema.safeParse(answer.body);
    return parsed.success ? parsed.data.error.code : undefined;
  }

  function expectEntry(answer: AccountServiceResponse, doing: string): LedgerEntryView {
    const entry = ledgerEntryViewSchema.safeParse(answer.body);
    if (answer.status === 200 && entry.success) return entry.data;
    throw ApplicationFailure.retryable(`the settlement bank answered ${answer.status} ${codeOf(answer) ?? ''} to ${doing}`, unavailable);
  }

  async function accountOf(accountId: string): Promise<{ balanceMinor: bigint; limitMinor: bigint }> {
    const answer = await call('GET', `/v1/accounts/${accountId}`);
    const view = accountViewSchema.safeParse(answer.body);
    if (answer.status !== 200 || !view.success) throw ApplicationFailure.retryable(`the settlement bank answered ${answer.status} to reading ${accountId}`, unavailable);
    return { balanceMinor: BigInt(view.data.balanceMinor), limitMinor: BigInt(view.data.overdraftLimitMinor) };
  }

  /** A write the window decides once; a refusal other than the expected ones stops the activity (retried, and visible in the Web UI). */
  async function write(path: string, payload: unknown, doing: string): Promise<LedgerEntryView> {
    return expectEntry(await call('POST', path, payload), doing);
  }

  /** Sets a position's cap under a change id of the window; a repeat (asking the same or, after later steps, another value) leaves the first decision. */
  async function setCap(accountId: string, changeId: string, limitMinor: bigint): Promise<void> {
    const answer = await call('POST', `/v1/accounts/${accountId}/overdraft-limit`, { changeId, overdraftLimitMinor: formatMinor(limitMinor) });
    if (answer.status !== 200 && codeOf(answer) !== 'IDEMPOTENCY_KEY_REUSED') throw ApplicationFailure.retryable(`setting the cap of ${accountId} (${changeId}) answered ${answer.status} ${codeOf(answer) ?? ''}`, unavailable);
  }

  /** The cap before the window's hold: read from the hold's own entry once it exists, so that a retry restores the same cap. */
  async function capBeforeHold(position: string, holdId: string): Promise<bigint | undefined> {
    const answer = await call('GET', `/v1/accounts/${position}/operations/${encodeURIComponent(`${holdId}:admin`)}`);
    if (answer.status === 404) return undefined;
    const entry = expectEntry(answer, `reading ${holdId}`) as LedgerEntryView & { overdraftLimitBeforeMinor?: string };
    return entry.overdraftLimitBeforeMinor === undefined ? undefined : BigInt(entry.overdraftLimitBeforeMinor);
  }

  /**
   * A bank that pays: its cap is held at what it owes now (it sends nothing more meanwhile), its
   * position is cleared by the amount, its reserve pays, and its cap comes back, at most what the
   * reserve now holds (a debt never passes the funds that settle it). A bank that receives: its
   * position is cleared, then its reserve credited. Each step is an operation with an id of the
   * window, and each intermediate state is more cautious than the end: a retry repeats nothing.
   */
  async function settleParticipant(settlement: ParticipantSettlement): Promise<SettlementEntry[]> {
    const { windowId, bankId, currency } = settlement;
    const net = BigInt(settlement.netMinor);
    const reserve = reserveAccountId(bankId, currency);
    const position = positionAccountId(bankId, currency);
    const written: SettlementEntry[] = [];
    const record = (accountId: string, entry: LedgerEntryView): void => {
      written.push({ bankId, currency, accountId, operationId: entry.operationId, amountMinor: entry.amountMinor });
    };
    const leg = { transferId: `settle.${windowId}`, amountMinor: formatMinor(net < 0n ? -net : net), currency };
    const clear = { settlementId: windowId, amountMinor: formatMinor(-net), currency };
    if (net < 0n) {
      const holdId = `${windowId}.hold`;
      let capBefore = await capBeforeHold(position, holdId);
      if (capBefore === undefined) {
        const now = await accountOf(position);
        capBefore = now.limitMinor;
        await setCap(position, holdId, now.balanceMinor < 0n ? (-now.balanceMinor < now.limitMinor ? -now.balanceMinor : now.limitMinor) : 0n);
      }
      record(position, await write(`/v1/accounts/${position}/settlements`, clear, `clearing the position of ${bankId}`));
      record(reserve, await write(`/v1/accounts/${reserve}/debits`, leg, `the reserve payment of ${bankId}`));
      const reserveAfter = (await accountOf(reserve)).balanceMinor;
      await setCap(position, `${windowId}.cap`, capBefore < reserveAfter ? capBefore : reserveAfter);
    } else if (net > 0n) {
      record(position, await write(`/v1/accounts/${position}/settlements`, clear, `clearing the position of ${bankId}`));
      record(reserve, await write(`/v1/accounts/${reserve}/credits`, leg, `the reserve credit of ${bankId}`));
    }
    return written;
  }

  return {
    /** Opens the next window (its document first: the API's close now acts on it), marks every position chain with it, then records this one CLOSED. */
    async closeSettlementWindow(input: WindowScope & { nextWindowId: string; at: string }): Promise<void> {
      await options.windows.open(input.nextWindowId, input.at);
      for (const bankId of input.participants) {
        for (const currency of input.currencies) {
          const accountId = positionAccountId(bankId, currency);
          await write(`/v1/accounts/${accountId}/windows`, { windowId: input.nextWindowId }, `marking ${accountId} with ${input.nextWindowId}`);
        }
      }
      await options.windows.record(input.windowId, 'CLOSED', input.at);
    },
    async openSettlementWindowId(): Promise<string | undefined> {
      return (await options.windows.latest())?.windowId;
    },
    async settlementWindowState(windowId: string): Promise<WindowState | 'ABSENT'> {
      return (await options.windows.get(windowId))?.state ?? 'ABSENT';
    },
    async tallySettlementWindow(scope: WindowScope): Promise<WindowTally> {
      try {
        return await tallyWindow(reader, scope);
      } catch (error) {
        if (error instanceof SettlementReadError) throw ApplicationFailure.retryable(error.message, unavailable);
        throw error;
      }
    },
    settleParticipant,
    async recordSettlementWindow(input: { windowId: string; state: 'SETTLING' | 'SETTLED'; at: string; report?: WindowReport }): Promise<void> {
      await options.windows.record(input.windowId, input.state, input.at, input.report);
    },
  };
}

export type SettlementWindowActivities = ReturnType<typeof createSettlementWindowActivities>;
