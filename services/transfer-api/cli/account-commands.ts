import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { formatTable } from '../../../infra/terminal';
import { answerOf, bodyOf, TransferApiError, type ApiAnswer, type ApiSchemas, type FetchAnswer, type TransferApi } from './api-client';
import type { Api, Print } from './command-context';

const idempotencyKeyHelp = 'repeat an earlier change: answers its first decision and changes nothing (default: a new random key, printed)';

/** banks, and accounts: open, get, fund, entries, daily-limit, freeze, unfreeze, close. */
export function addAccountCommands(root: Command, api: Api, print: Print): void {
  root
    .command('banks')
    .description('list the banks')
    .action(async () => {
      const { client, flags } = api();
      const banks = await bodyOf(client.GET('/v1/banks'));
      print(flags, banks, () => formatTable(['bank', 'account service'], banks.data.map((bank) => [bank.bankId, bank.url])));
    });

  addAccountsCommand(root, api, print);
}

type Account = ApiSchemas['Account'];

function accountTable(account: Account): string {
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
      const account = await bodyOf(client.POST('/v1/banks/{bankId}/accounts', { params: { path: { bankId: bank } }, body }));
      print(flags, account, () => accountTable(account));
    });
  accounts
    .command('get <bank> <accountId>')
    .action(async (bank: string, accountId: string) => {
      const { client, flags } = api();
      const account = await bodyOf(client.GET('/v1/banks/{bankId}/accounts/{accountId}', { params: { path: { bankId: bank, accountId } } }));
      print(flags, account, () => accountTable(account));
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
      const entry = await bodyOf(client.POST('/v1/banks/{bankId}/accounts/{accountId}/deposits', { params: { path: { bankId: bank, accountId } }, body: { depositId, amountMinor: options.amount, currency: options.currency } }));
      print(flags, entry, () => `deposit ${depositId}: balance after ${String(entry.balanceAfterMinor)}`);
    });
  accounts
    .command('entries <bank> <accountId>')
    .option('--limit <n>')
    .option('--cursor <cursor>')
    .action(async (bank: string, accountId: string, options: { limit?: string; cursor?: string }) => {
      const { client, flags } = api();
      const query = { ...(options.limit ? { limit: Number(options.limit) } : {}), ...(options.cursor ? { cursor: options.cursor } : {}) };
      const page = await bodyOf(client.GET('/v1/banks/{bankId}/accounts/{accountId}/entries', { params: { path: { bankId: bank, accountId }, query } }));
      print(flags, page, () =>
        formatTable(['seq', 'operation', 'kind', 'amount', 'balance after', 'outcome'], page.data.map((e) => [String(e.sequence), String(e.operationId), String(e.kind), String(e.amountMinor), String(e.balanceAfterMinor), `${String(e.outcome)}${e.code ? ` ${String(e.code)}` : ''}`])),
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
      await changeAccount(api, print, options.idempotencyKey, (client, key) =>
        client.POST('/v1/banks/{bankId}/accounts/{accountId}/daily-limit', { params: { path: { bankId: bank, accountId }, header: { 'idempotency-key': key } }, body }),
      );
    });
  for (const action of ['freeze', 'unfreeze', 'close'] as const) {
    accounts
      .command(`${action} <bank> <accountId>`)
      .option('--idempotency-key <key>', idempotencyKeyHelp)
      .action(async (bank: string, accountId: string, options: { idempotencyKey?: string }) => {
        await changeAccount(api, print, options.idempotencyKey, (client, key) =>
          client.POST(`/v1/banks/{bankId}/accounts/{accountId}/${action}`, { params: { path: { bankId: bank, accountId }, header: { 'idempotency-key': key } } }),
        );
      });
  }
}

/**
 * Sends one account change under an Idempotency-Key: a new random one, or the one given to
 * repeat a change whose answer was lost. The key is printed with the answer, and with an error
 * too, so that an operator can always retry without acting twice.
 */
async function changeAccount(api: Api, print: Print, givenKey: string | undefined, send: (client: TransferApi, key: string) => Promise<FetchAnswer<Account>>): Promise<void> {
  const { client, flags } = api();
  const key = givenKey ?? randomUUID();
  let answer: ApiAnswer<Account>;
  try {
    answer = await answerOf(send(client, key));
  } catch (error) {
    throw withIdempotencyKey(error, key);
  }
  const replayed = answer.headers.get('idempotent-replayed') === 'true';
  print(flags, { idempotencyKey: key, replayed, account: answer.body }, () => `${replayed ? 'replayed the first decision' : 'decided'} (Idempotency-Key ${key})\n${accountTable(answer.body)}`);
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
