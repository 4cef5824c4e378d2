import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { formatTable } from '../../../infra/terminal';
import type { LiquidityRequest, ParticipantRow } from '../gateways/settlement-bank';
import type { WindowView } from '../gateways/settlement-windows';
import { withIdempotencyKey, withRetryNote } from './account-commands';
import { answerOf, bodyOf, type ApiAnswer } from './api-client';
import type { Api, Print } from './command-context';

/** The currency of funds-in, funds-out and ndc when --currency is not given. */
export const defaultSettlementCurrency = 'EUR';
const pollIntervalMsDefault = 1_000;
const idempotencyKeyHelp = 'repeat an earlier cap change: answers its first decision and changes nothing (default: a new random key, printed)';
const fundsIdHelp = 'repeat an earlier funds-in or funds-out: answers its first decision and moves nothing (default: a new random UUID, printed)';

/** GET /v1/settlement/participants. */
export interface ParticipantsAnswer {
  model: 'DEFERRED_NET' | 'IMMEDIATE_GROSS';
  data: ParticipantRow[];
}

/** POST /v1/settlement/windows/close. */
export interface WindowClose {
  windowId: string;
  nextWindowId: string;
}

export function participantRows(rows: readonly ParticipantRow[]): string {
  return formatTable(
    ['bank', 'currency', 'reserve', 'cap', 'position', 'available'],
    // Immediate-gross has no cap: each transfer moves reserves at once.
    rows.map((row) => [row.bankId, row.currency, row.reserveMinor, row.netDebitCapMinor ?? 'n/a', row.positionMinor, row.availableMinor]),
  );
}

/** The settlement model on a line, then one row per participant and currency. */
export function participantsText(answer: ParticipantsAnswer): string {
  return `model: ${answer.model}\n${participantRows(answer.data)}`;
}

export function windowRows(windows: readonly WindowView[]): string {
  return formatTable(
    ['window', 'state', 'opened', 'closed', 'transfers', 'in flight'],
    windows.map((window) => [window.windowId, window.state, window.openedAt, window.closedAt ?? '', String(window.transfers), String(window.inFlight)]),
  );
}

export function positionsText(positions: WindowView['positions']): string {
  if (positions.length === 0) return 'positions: none';
  return `positions:\n${formatTable(['bank', 'currency', 'net'], positions.map((p) => [p.bankId, p.currency, p.netMinor]))}`;
}

export function entriesText(entries: WindowView['entries']): string {
  if (entries.length === 0) return 'entries: none (the settlement bank writes them when the window settles)';
  return `entries:\n${formatTable(['bank', 'currency', 'account', 'operation', 'amount'], entries.map((e) => [e.bankId, e.currency, e.accountId, e.operationId, e.amountMinor]))}`;
}

/** One window: its row, when it settled, its positions and its entries. */
export function windowText(window: WindowView): string {
  const settled = window.settledAt === null ? '' : `\nsettled at ${window.settledAt}`;
  return `${windowRows([window])}${settled}\n\n${positionsText(window.positions)}\n\n${entriesText(window.entries)}`;
}

/** The body of a funds-in or funds-out: a new random funds id unless one is given to retry, EUR unless told. */
export function liquidityRequest(amountMinor: string, options: { currency?: string; fundsId?: string }, newId: () => string = randomUUID): LiquidityRequest {
  return { fundsId: options.fundsId ?? newId(), amountMinor, currency: options.currency ?? defaultSettlementCurrency };
}

/** The body and the Idempotency-Key of a Net Debit Cap change. */
export function netDebitCapRequest(amountMinor: string, options: { currency?: string; idempotencyKey?: string }, newKey: () => string = randomUUID): { idempotencyKey: string; body: { amountMinor: string; currency: string } } {
  return { idempotencyKey: options.idempotencyKey ?? newKey(), body: { amountMinor, currency: options.currency ?? defaultSettlementCurrency } };
}

/** settlement participants, funds-in, funds-out, ndc, windows, window, close. */
export function addSettlementCommands(root: Command, api: Api, print: Print): void {
  const settlement = root.command('settlement').description("the participants' liquidity at the settlement bank and the deferred-net settlement windows");
  settlement
    .command('participants')
    .description("every participant's reserve, Net Debit Cap, position and what it may still send")
    .action(async () => {
      const { client, flags } = api();
      const participants = await bodyOf(client.GET('/v1/settlement/participants'));
      print(flags, participants, () => participantsText(participants));
    });
  addLiquidityCommands(settlement, api, print);
  addWindowCommands(settlement, api, print);
}

/** funds-in and funds-out, idempotent by the funds id; ndc, under an Idempotency-Key. */
function addLiquidityCommands(settlement: Command, api: Api, print: Print): void {
  const moves = {
    'funds-in': "pay funds into a participant's reserve",
    'funds-out': "pay funds out of a participant's reserve (never below its Net Debit Cap)",
  } as const;
  for (const [move, description] of Object.entries(moves) as Array<[keyof typeof moves, string]>) {
    settlement
      .command(`${move} <bankId> <amountMinor>`)
      .description(description)
      .option('--currency <code>', 'ISO 4217 currency', defaultSettlementCurrency)
      .option('--funds-id <id>', fundsIdHelp)
      .action(async (bankId: string, amountMinor: string, options: { currency?: string; fundsId?: string }) => {
        const { client, flags } = api();
        const body = liquidityRequest(amountMinor, options);
        let answer: ApiAnswer<ParticipantRow>;
        try {
          answer = await answerOf(client.POST(`/v1/settlement/participants/{bankId}/${move}`, { params: { path: { bankId } }, body }));
        } catch (error) {
          throw withRetryNote(error, `fundsId ${body.fundsId}; --funds-id ${body.fundsId} repeats this ${move} without moving funds twice`);
        }
        print(flags, { fundsId: body.fundsId, participant: answer.body }, () => `${move} ${body.amountMinor} ${body.currency} (funds id ${body.fundsId})\n${participantRows([answer.body])}`);
      });
  }

  settlement
    .command('ndc <bankId> <amountMinor>')
    .description("set a participant's Net Debit Cap (deferred-net): never above its reserve, never below what it owes")
    .option('--currency <code>', 'ISO 4217 currency', defaultSettlementCurrency)
    .option('--idempotency-key <key>', idempotencyKeyHelp)
    .action(async (bankId: string, amountMinor: string, options: { currency?: string; idempotencyKey?: string }) => {
      const { client, flags } = api();
      const { idempotencyKey, body } = netDebitCapRequest(amountMinor, options);
      let answer: ApiAnswer<ParticipantRow>;
      try {
        answer = await answerOf(client.PUT('/v1/settlement/participants/{bankId}/net-debit-cap', { params: { path: { bankId }, header: { 'idempotency-key': idempotencyKey } }, body }));
      } catch (error) {
        throw withIdempotencyKey(error, idempotencyKey);
      }
      print(flags, { idempotencyKey, participant: answer.body }, () => `Net Debit Cap ${body.amountMinor} ${body.currency} (Idempotency-Key ${idempotencyKey})\n${participantRows([answer.body])}`);
    });
}

/** windows, window and close (--wait: until the closed window is SETTLED). */
function addWindowCommands(settlement: Command, api: Api, print: Print): void {
  settlement
    .command('windows')
    .description('list settlement windows, newest first')
    .addOption(new Option('--limit <n>', 'windows per page').default('20'))
    .option('--cursor <cursor>', 'nextCursor of the previous page')
    .action(async (options: { limit: string; cursor?: string }) => {
      const { client, flags } = api();
      const page = await bodyOf(client.GET('/v1/settlement/windows', { params: { query: { limit: Number(options.limit), ...(options.cursor ? { cursor: options.cursor } : {}) } } }));
      print(flags, page, () => `${windowRows(page.data)}${page.nextCursor ? `\nnext page: --cursor ${page.nextCursor}` : ''}`);
    });

  settlement
    .command('window <windowId>')
    .description('show a settlement window with its positions and entries')
    .action(async (windowId: string) => {
      const { client, flags } = api();
      const window = await bodyOf(client.GET('/v1/settlement/windows/{windowId}', { params: { path: { windowId } } }));
      print(flags, window, () => windowText(window));
    });

  settlement
    .command('close')
    .description('close the open settlement window (the next one opens at once); it settles once its transfers in flight have ended')
    .option('--wait', 'wait until the closed window is SETTLED and print its positions')
    .addOption(new Option('--timeout-s <seconds>', 'give up waiting after this long').default('600'))
    .addOption(new Option('--interval-ms <ms>', 'poll interval while waiting').default(String(pollIntervalMsDefault)))
    .action(async (options: { wait?: boolean; timeoutS: string; intervalMs: string }) => {
      const { client, flags } = api();
      const closed = await bodyOf(client.POST('/v1/settlement/windows/close'));
      const closedText = `closed ${closed.windowId}; ${closed.nextWindowId} is open`;
      if (!options.wait) {
        print(flags, closed, () => closedText);
        return;
      }
      if (!flags.json) console.log(closedText);
      const deadline = Date.now() + Number(options.timeoutS) * 1_000;
      let last = '';
      let window: WindowView;
      for (;;) {
        window = await bodyOf(client.GET('/v1/settlement/windows/{windowId}', { params: { path: { windowId: closed.windowId } } }));
        if (window.state !== last) {
          if (!flags.json) process.stderr.write(`window ${window.windowId} ${window.state}${window.state === 'SETTLED' ? '' : ` (${window.inFlight} in flight)`}\n`);
          last = window.state;
        }
        if (window.state === 'SETTLED') break;
        if (Date.now() > deadline) throw new Error(`settlement window ${closed.windowId} still ${window.state} after ${options.timeoutS} s (${window.inFlight} in flight)`);
        await new Promise((resolve) => setTimeout(resolve, Number(options.intervalMs)));
      }
      const settled = window;
      print(flags, { ...closed, window: settled }, () => `window ${settled.windowId} settled at ${settled.settledAt ?? '?'}\n${positionsText(settled.positions)}`);
    });
}
