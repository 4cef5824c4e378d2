import { ApplicationFailure } from '@temporalio/activity';
import { AccountServiceClient, AccountServiceUnreachableError, type AccountServiceResponse } from '../lib/clients/account-service-client';
import { accountViewSchema, errorAnswerSchema, ledgerEntryViewSchema, type LedgerEntryView } from '../lib/contracts/account-service-contract';
import { formatMinor } from '../lib/contracts/money';
import { positionAccountId, reserveAccountId, windowSettlementTransferId, type SettlementEntry, type WindowReport } from '../lib/contracts/settlement';
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

/** The settlement bank as the window activities call it: every fault they cannot conclude from is a retried ApplicationFailure. */
class SettlementBankCalls {
  private readonly client: AccountServiceClient;

  constructor(options: SettlementWindowActivitiesOptions) {
    this.client = new AccountServiceClient({ bankId: options.settlementBank.bankId, baseUrl: options.settlementBank.url, signingKey: options.signingKey, requestTimeoutMs: options.requestTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
  }

  readonly reader: SettlementBankReader = {
    get: async (path) => {
      const answer = await this.call('GET', path);
      return { status: answer.status, body: answer.body };
    },
  };

  async call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<AccountServiceResponse> {
    try {
      const answer = await this.client.request(method, path, payload);
      if (answer.status >= 500 || answer.status === 401 || answer.status === 403) throw ApplicationFailure.retryable(`the settlement bank answered ${answer.status} to ${method} ${path}`, unavailable);
      return answer;
    } catch (error) {
      if (error instanceof AccountServiceUnreachableError) throw ApplicationFailure.retryable(error.message, unavailable);
      throw error;
    }
  }

  static codeOf(answer: AccountServiceResponse): string | undefined {
    const parsed = errorAnswerSchema.safeParse(answer.body);
    return parsed.success ? parsed.data.error.code : undefined;
  }

  static entryOf(answer: AccountServiceResponse, doing: string): LedgerEntryView {
    const entry = ledgerEntryViewSchema.safeParse(answer.body);
    if (answer.status === 200 && entry.success) return entry.data;
    throw ApplicationFailure.retryable(`the settlement bank answered ${answer.status} ${SettlementBankCalls.codeOf(answer) ?? ''} to ${doing}`, unavailable);
  }

  async account(accountId: string): Promise<{ balanceMinor: bigint; limitMinor: bigint }> {
    const answer = await this.call('GET', `/v1/accounts/${accountId}`);
    const view = accountViewSchema.safeParse(answer.body);
    if (answer.status !== 200 || !view.success) throw ApplicationFailure.retryable(`the settlement bank answered ${answer.status} to reading ${accountId}`, unavailable);
    return { balanceMinor: BigInt(view.data.balanceMinor), limitMinor: BigInt(view.data.overdraftLimitMinor) };
  }

  /** A write the window decides once; a refusal stops the activity (retried, and visible in the Web UI). */
  async write(path: string, payload: unknown, doing: string): Promise<LedgerEntryView> {
    return SettlementBankCalls.entryOf(await this.call('POST', path, payload), doing);
  }

  /** Sets a position's cap under a change id of the window; a repeat (asking the same or, after later steps, another value) leaves the first decision. */
  async setCap(accountId: string, changeId: string, limitMinor: bigint): Promise<void> {
    const answer = await this.call('POST', `/v1/accounts/${accountId}/overdraft-limit`, { changeId, overdraftLimitMinor: formatMinor(limitMinor) });
    const code = SettlementBankCalls.codeOf(answer);
    if (answer.status !== 200 && code !== 'IDEMPOTENCY_KEY_REUSED') throw ApplicationFailure.retryable(`setting the cap of ${accountId} (${changeId}) answered ${answer.status} ${code ?? ''}`, unavailable);
  }

  /** The cap before the window's hold: read from the hold's own entry once it exists, so that a retry restores the same cap. */
  async capBeforeHold(position: string, holdId: string): Promise<bigint | undefined> {
    const answer = await this.call('GET', `/v1/accounts/${position}/operations/${encodeURIComponent(`${holdId}:admin`)}`);
    if (answer.status === 404) return undefined;
    const entry = SettlementBankCalls.entryOf(answer, `reading ${holdId}`);
    return entry.overdraftLimitBeforeMinor === undefined ? undefined : BigInt(entry.overdraftLimitBeforeMinor);
  }
}

/** One participant's settlement of a window: its accounts, the entries written so far, and the two moves of its net. */
interface ParticipantMoves {
  bank: SettlementBankCalls;
  settlement: ParticipantSettlement;
  reserve: string;
  position: string;
  /** The reserve payment or credit, under the window's id. */
  leg: { transferId: string; amountMinor: string; currency: string };
  /** The position's clearing by the net. */
  clear: { settlementId: string; amountMinor: string; currency: string };
  written: SettlementEntry[];
}

function recordEntry(moves: ParticipantMoves, accountId: string, entry: LedgerEntryView): void {
  const { bankId, currency } = moves.settlement;
  moves.written.push({ bankId, currency, accountId, operationId: entry.operationId, amountMinor: entry.amountMinor });
}

/** A payer: its cap held at what it owes now (it sends nothing more meanwhile), its position cleared, its reserve paying, its cap back at most to what the reserve now holds. */
async function settlePayer(moves: ParticipantMoves): Promise<void> {
  const { bank, settlement, reserve, position } = moves;
  const holdId = `${settlement.windowId}.hold`;
  let capBefore = await bank.capBeforeHold(position, holdId);
  if (capBefore === undefined) {
    const now = await bank.account(position);
    capBefore = now.limitMinor;
    const owed = now.balanceMinor < 0n ? -now.balanceMinor : 0n;
    await bank.setCap(position, holdId, owed < now.limitMinor ? owed : now.limitMinor);
  }
  recordEntry(moves, position, await bank.write(`/v1/accounts/${position}/settlements`, moves.clear, `clearing the position of ${settlement.bankId}`));
  recordEntry(moves, reserve, await bank.write(`/v1/accounts/${reserve}/debits`, moves.leg, `the reserve payment of ${settlement.bankId}`));
  const reserveAfter = (await bank.account(reserve)).balanceMinor;
  await bank.setCap(position, `${settlement.windowId}.cap`, capBefore < reserveAfter ? capBefore : reserveAfter);
}

/** A receiver: its position cleared, then its reserve credited. */
async function settleReceiver(moves: ParticipantMoves): Promise<void> {
  const { bank, settlement, reserve, position } = moves;
  recordEntry(moves, position, await bank.write(`/v1/accounts/${position}/settlements`, moves.clear, `clearing the position of ${settlement.bankId}`));
  recordEntry(moves, reserve, await bank.write(`/v1/accounts/${reserve}/credits`, moves.leg, `the reserve credit of ${settlement.bankId}`));
}

/**
 * Moves one participant's net for a window between its reserve and its position. Each step is an
 * operation with an id of the window, and each intermediate state is more cautious than the end
 * (a debt never passes the funds that settle it): a retry repeats nothing.
 */
async function settleParticipant(bank: SettlementBankCalls, settlement: ParticipantSettlement): Promise<SettlementEntry[]> {
  const { windowId, bankId, currency } = settlement;
  const net = BigInt(settlement.netMinor);
  const moves: ParticipantMoves = {
    bank,
    settlement,
    reserve: reserveAccountId(bankId, currency),
    position: positionAccountId(bankId, currency),
    leg: { transferId: windowSettlementTransferId(windowId), amountMinor: formatMinor(net < 0n ? -net : net), currency },
    clear: { settlementId: windowId, amountMinor: formatMinor(-net), currency },
    written: [],
  };
  if (net < 0n) await settlePayer(moves);
  else if (net > 0n) await settleReceiver(moves);
  return moves.written;
}

/**
 * The settlement bank's side of closing and settling a window. Every write is an operation with
 * an id derived from the window, so a retried activity or a resumed workflow repeats nothing.
 */
export function createSettlementWindowActivities(options: SettlementWindowActivitiesOptions) {
  const bank = new SettlementBankCalls(options);
  return {
    /** Opens the next window (its document first: the API's close now acts on it), marks every position chain with it, then records this one CLOSED. */
    async closeSettlementWindow(input: WindowScope & { nextWindowId: string; at: string }): Promise<void> {
      await options.windows.open(input.nextWindowId, input.at);
      for (const bankId of input.participants) {
        for (const currency of input.currencies) {
          const accountId = positionAccountId(bankId, currency);
          await bank.write(`/v1/accounts/${accountId}/windows`, { windowId: input.nextWindowId }, `marking ${accountId} with ${input.nextWindowId}`);
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
        return await tallyWindow(bank.reader, scope);
      } catch (error) {
        if (error instanceof SettlementReadError) throw ApplicationFailure.retryable(error.message, unavailable);
        throw error;
      }
    },
    async settleParticipant(settlement: ParticipantSettlement): Promise<SettlementEntry[]> {
      return settleParticipant(bank, settlement);
    },
    async recordSettlementWindow(input: { windowId: string; state: 'SETTLING' | 'SETTLED'; at: string; report?: WindowReport }): Promise<void> {
      await options.windows.record(input.windowId, input.state, input.at, input.report);
    },
  };
}

export type SettlementWindowActivities = ReturnType<typeof createSettlementWindowActivities>;
