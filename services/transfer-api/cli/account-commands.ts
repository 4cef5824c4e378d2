import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { formatTable } from '../../../infra/terminal';
import { TransferApiError, type ApiAnswer } from './api-client';
import type { Api, Print } from './command-context';

const idempotencyKeyHelp = 'repeat an earlier change: answers its first decision and changes nothing (default: a new random key, printed)';

/** banks, and accounts: open, get, fund, entries, daily-limit, freeze, unfreeze, close. */
export function addAccountCommands(root: Command, api: Api, print: Print): void {
  root
    .command('banks')
    .description('list the banks')
    .action(async () => {
      const { client, flags } = api();
      const answer = await client.call<{ data: Array<{ bankId: string; url: string }> }>('GET', '/v1/banks');
      print(flags, answer.body, () => formatTable(['bank', 'account service'], answer.body.data.map((bank) => [bank.bankId, bank.url])));
    });

  addAccountsCommand(root, api, print);
}

function accountTable(account: Record<string, unknown>): string {
  return formatTable(
    ['bank', 'account', 'owner', 'currency', 'status', 'balance', 'daily limit', 'debited today', 'sequence'],
    [[String(account.bankId), String(account.accountId), String(account.owner), String(account.currency), String(account.status), String(account.balanceMinor), String(account.dailyDebitLimitMinor ?? 'none'), String(account.dayDebitedMinor ?? '0'), String(account.sequence)]],
  );
}

function addAccountsCommand(root: Command, api: Api, print: Print): void {
  const accounts = root.command('accounts').description('open, fund and inspect accounts (operator)');
  addOpenFundAndReadCommands(accounts, api, print);
  addAccountChangeCommands(accounts, api, print);
}

/** open, get, fund, entries: idempotent by the account id and the deposit id. */
function addOpenFundAndReadCommands(accounts: Command, api: Api, print: Print): void {
  accounts
    .command('open <bank> <accountId>')
    .requiredOption('--owner <name>')
    .requiredOption('--currency <code>')
    .option('--overdraft-limit <minor>')
    .option('--daily-limit <minor>', 'most the account may send per bank day')
    .action(async (bank: string, accountId: string, options: { owner: string; currency: string; overdraftLimit?: string; dailyLimit?: string }) => {
      const { client, flags } = api();
      const body = {
        accountId,
        owner: options.owner,
        currency: options.currency,
        ...(options.overdraftLimit ? { overdraftLimitMinor: options.overdraftLimit } : {}),
        ...(options.dailyLimit ? { dailyDebitLimitMinor: options.dailyLimit } : {}),
      };
      const answer = await client.call<Record<string, unknown>>('POST', `/v1/banks/${bank}/accounts`, body);
      print(flags, answer.body, () => accountTable(answer.body));
    });
  accounts
    .command('get <bank> <accountId>')
    .action(async (bank: string, accountId: string) => {
      const { client, flags } = api();
      const answer = await client.call<Record<string, unknown>>('GET', `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}`);
      print(flags, answer.body, () => accountTable(answer.body));
    });
  accounts
    .command('fund <bank> <accountId>')
    .description('deposit money')
    .requiredOption('--amount <minor>')
    .requiredOption('--currency <code>')
    .option('--deposit-id <id>', 'reuse to retry safely (default: a new id, printed)')
    .action(async (bank: string, accountId: string, options: { amount: string; currency: string; depositId?: string }) => {
      const { client, flags } = api();
      const depositId = options.depositId ?? `dep-${randomUUID()}`;
      const answer = await client.call<Record<string, unknown>>('POST', `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}/deposits`, { depositId, amountMinor: options.amount, currency: options.currency });
      print(flags, answer.body, () => `deposit ${depositId}: balance after ${String(answer.body.balanceAfterMinor)}`);
    });
  accounts
    .command('entries <bank> <accountId>')
    .option('--limit <n>')
    .option('--cursor <cursor>')
    .action(async (bank: string, accountId: string, options: { limit?: string; cursor?: string }) => {
      const { client, flags } = api();
      const query = new URLSearchParams();
      if (options.limit) query.set('limit', options.limit);
      if (options.cursor) query.set('cursor', options.cursor);
      const suffix = query.size > 0 ? `?${query.toString()}` : '';
      const answer = await client.call<{ data: Array<Record<string, unknown>>; nextCursor: string | null }>('GET', `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}/entries${suffix}`);
      print(flags, answer.body, () =>
        formatTable(['seq', 'operation', 'kind', 'amount', 'balance after', 'outcome'], answer.body.data.map((e) => [String(e.sequence), String(e.operationId), String(e.kind), String(e.amountMinor), String(e.balanceAfterMinor), `${String(e.outcome)}${e.code ? ` ${String(e.code)}` : ''}`])),
      );
    });
}

/** daily-limit, freeze, unfreeze, close: each under an Idempotency-Key. */
function addAccountChangeCommands(accounts: Command, api: Api, print: Print): void {
  accounts
    .command('daily-limit <bank> <accountId> <minor>')
    .description("set the account's daily outgoing limit in minor units, or 'none' to remove it")
    .option('--idempotency-key <key>', idempotencyKeyHelp)
    .action(async (bank: string, accountId: string, minor: string, options: { idempotencyKey?: string }) => {
      const body = { dailyDebitLimitMinor: minor === 'none' ? null : minor };
      await changeAccount(api, print, `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}/daily-limit`, body, options.idempotencyKey, accountTable);
    });
  for (const action of ['freeze', 'unfreeze', 'close'] as const) {
    accounts
      .command(`${action} <bank> <accountId>`)
      .option('--idempotency-key <key>', idempotencyKeyHelp)
      .action(async (bank: string, accountId: string, options: { idempotencyKey?: string }) => {
        await changeAccount(api, print, `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}/${action}`, {}, options.idempotencyKey, accountTable);
      });
  }
}

/**
 * Sends one account change under an Idempotency-Key: a new random one, or the one given to
 * repeat a change whose answer was lost. The key is printed with the answer, and with an error
 * too, so that an operator can always retry without acting twice.
 */
async function changeAccount(api: Api, print: Print, path: string, body: Record<string, unknown>, givenKey: string | undefined, table: (account: Record<string, unknown>) => string): Promise<void> {
  const { client, flags } = api();
  const key = givenKey ?? randomUUID();
  let answer: ApiAnswer<Record<string, unknown>>;
  try {
    answer = await client.call<Record<string, unknown>>('POST', path, body, { 'idempotency-key': key });
  } catch (error) {
    throw withIdempotencyKey(error, key);
  }
  const replayed = answer.headers.get('idempotent-replayed') === 'true';
  print(flags, { idempotencyKey: key, replayed, account: answer.body }, () => `${replayed ? 'replayed the first decision' : 'decided'} (Idempotency-Key ${key})\n${table(answer.body)}`);
}

/** The error with the Idempotency-Key it was sent under, so that the operator can retry without acting twice. */
export function withIdempotencyKey(error: unknown, key: string): Error {
  return withRetryNote(error, `Idempotency-Key ${key}; --idempotency-key ${key} repeats this change without acting twice`);
}

/** The error (an API error keeps its status and code) with a note on how to retry it safely. */
export function withRetryNote(error: unknown, note: string): Error {
  if (error instanceof TransferApiError) return new TransferApiError(error.status, error.code, `${error.message} (${note})`);
  return new Error(`${error instanceof Error ? error.message : String(error)} (${note})`);
}
