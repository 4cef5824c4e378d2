import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { formatTable } from '../../../infra/terminal';
import { terminalTransferStatuses } from '../../../lib/transfer-contract';
import type { TransferView } from '../schemas';
import { TransferApiClient, TransferApiError } from './api-client';
import { loadCliConfig } from './config';
import { addReconciliationCommands } from './reconciliation-commands';

const projectRoot = join(__dirname, '..', '..', '..');
const watchIntervalMsDefault = 1_000;

interface GlobalFlags {
  json?: boolean;
  apiUrl?: string;
  apiKey?: string;
}

function parseAccountRef(value: string): { bankId: string; accountId: string } {
  const [bankId, accountId, ...rest] = value.split(':');
  if (!bankId || !accountId || rest.length > 0) throw new Error(`"${value}" is not bank:account (e.g. bank-a:alice)`);
  return { bankId, accountId };
}

function transferRows(transfers: readonly TransferView[]): string {
  return formatTable(
    ['id', 'status', 'reason', 'source', 'target', 'amount', 'updated'],
    transfers.map((t) => [t.id, t.status, t.reason ?? '', `${t.source.bankId}:${t.source.accountId}`, `${t.target.bankId}:${t.target.accountId}`, `${t.amountMinor} ${t.currency}`, t.updatedAt]),
  );
}

function transferDetail(transfer: TransferView): string {
  const head = transferRows([transfer]);
  const steps = formatTable(
    ['step', 'status', 'attempts', 'started', 'ended', 'failure'],
    transfer.steps.map((step) => [step.name, step.status, String(step.attempts), step.startedAt, step.endedAt ?? '', step.failure ? `${step.failure.code}: ${step.failure.message}` : '']),
  );
  return `${head}\n\n${steps}${transfer.needsAttention ? '\n\n! needs attention' : ''}`;
}

function program(): Command {
  const root = new Command('transfers')
    .description('Operator CLI of the interbank transfer API')
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--api-url <url>', 'transfer API base URL (TRANSFER_API_URL, default http://127.0.0.1:3000)')
    .option('--api-key <key>', "API key (TRANSFER_API_KEY, default the local cluster's operator key)");
  const api = (): { client: TransferApiClient; flags: GlobalFlags } => {
    const flags = root.opts<GlobalFlags>();
    const config = loadCliConfig(flags, process.env, projectRoot);
    return { client: new TransferApiClient(config.apiUrl, config.apiKey), flags };
  };
  const print = (flags: GlobalFlags, value: unknown, table: () => string): void => {
    console.log(flags.json ? JSON.stringify(value, null, 2) : table());
  };

  root
    .command('create')
    .description('start a transfer')
    .requiredOption('--from <bank:account>', 'source account')
    .requiredOption('--to <bank:account>', 'target account')
    .requiredOption('--amount <minor>', 'amount in minor units, e.g. 12050')
    .requiredOption('--currency <code>', 'ISO 4217 currency')
    .option('--reference <text>', 'reference for payer and payee')
    .option('--idempotency-key <key>', 'reuse to retry safely (default: a new random key, printed)')
    .action(async (options: { from: string; to: string; amount: string; currency: string; reference?: string; idempotencyKey?: string }) => {
      const { client, flags } = api();
      const key = options.idempotencyKey ?? randomUUID();
      const body = { source: parseAccountRef(options.from), target: parseAccountRef(options.to), amountMinor: options.amount, currency: options.currency, ...(options.reference ? { reference: options.reference } : {}) };
      const answer = await client.call<TransferView>('POST', '/v1/transfers', body, { 'idempotency-key': key });
      print(flags, answer.body, () => `${answer.status === 200 ? 'replayed' : 'created'} (Idempotency-Key ${key})\n${transferRows([answer.body])}`);
    });

  root
    .command('get <id>')
    .description('show a transfer with its steps')
    .action(async (id: string) => {
      const { client, flags } = api();
      const answer = await client.call<TransferView>('GET', `/v1/transfers/${encodeURIComponent(id)}`);
      print(flags, answer.body, () => transferDetail(answer.body));
    });

  root
    .command('list')
    .description('list transfers, newest first')
    .option('--status <status>')
    .option('--source-bank <bank>')
    .option('--target-bank <bank>')
    .option('--account <account>')
    .option('--needs-attention', 'only transfers an operator must act on: a refund or credit-void that keeps failing, or a workflow that stopped (attentionReason)')
    .option('--limit <n>', 'page size', '20')
    .option('--cursor <cursor>', 'nextCursor of an earlier page')
    .action(async (options: { status?: string; sourceBank?: string; targetBank?: string; account?: string; needsAttention?: boolean; limit: string; cursor?: string }) => {
      const { client, flags } = api();
      const query = new URLSearchParams({ limit: options.limit, ...(options.needsAttention ? { needsAttention: 'true' } : {}) });
      for (const [name, value] of [['status', options.status], ['sourceBank', options.sourceBank], ['targetBank', options.targetBank], ['account', options.account], ['cursor', options.cursor]] as const) {
        if (value) query.set(name, value);
      }
      const answer = await client.call<{ data: TransferView[]; nextCursor: string | null }>('GET', `/v1/transfers?${query.toString()}`);
      print(flags, answer.body, () => `${transferRows(answer.body.data)}${answer.body.nextCursor ? `\n\nmore: --cursor ${answer.body.nextCursor}` : ''}`);
    });

  const actions = {
    approve: 'approve a transfer awaiting approval',
    reject: 'reject a transfer awaiting approval',
    cancel: 'cancel a transfer (until its credit has succeeded)',
    repair: 'finish, from the ledgers, a transfer whose workflow stopped before it ended (terminated or deleted)',
  } as const;
  for (const [action, description] of Object.entries(actions)) {
    root
      .command(`${action} <id>`)
      .description(description)
      .option('--comment <text>')
      .action(async (id: string, options: { comment?: string }) => {
        const { client, flags } = api();
        const answer = await client.call<TransferView>('POST', `/v1/transfers/${encodeURIComponent(id)}/${action}`, options.comment ? { comment: options.comment } : {});
        print(flags, answer.body, () => transferDetail(answer.body));
      });
  }

  root
    .command('watch <id>')
    .description('follow a transfer until it ends, printing every change')
    .addOption(new Option('--interval-ms <ms>', 'poll interval').default(String(watchIntervalMsDefault)))
    .action(async (id: string, options: { intervalMs: string }) => {
      const { client, flags } = api();
      let last = '';
      for (;;) {
        const transfer = (await client.call<TransferView>('GET', `/v1/transfers/${encodeURIComponent(id)}`)).body;
        const summary = `${transfer.status}${transfer.reason ? ` (${transfer.reason})` : ''} steps: ${transfer.steps.map((step) => `${step.name}=${step.status}`).join(', ')}`;
        if (summary !== last) {
          console.log(flags.json ? JSON.stringify(transfer) : `${new Date().toISOString()}  ${summary}`);
          last = summary;
        }
        if ((terminalTransferStatuses as readonly string[]).includes(transfer.status)) return;
        await new Promise((resolve) => setTimeout(resolve, Number(options.intervalMs)));
      }
    });

  root
    .command('banks')
    .description('list the banks')
    .action(async () => {
      const { client, flags } = api();
      const answer = await client.call<{ data: Array<{ bankId: string; url: string }> }>('GET', '/v1/banks');
      print(flags, answer.body, () => formatTable(['bank', 'account service'], answer.body.data.map((bank) => [bank.bankId, bank.url])));
    });

  const accounts = root.command('accounts').description('open, fund and inspect accounts (operator)');
  const accountTable = (account: Record<string, unknown>): string =>
    formatTable(
      ['bank', 'account', 'owner', 'currency', 'status', 'balance', 'daily limit', 'debited today', 'sequence'],
      [[String(account.bankId), String(account.accountId), String(account.owner), String(account.currency), String(account.status), String(account.balanceMinor), String(account.dailyDebitLimitMinor ?? 'none'), String(account.dayDebitedMinor ?? '0'), String(account.sequence)]],
    );
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
  accounts
    .command('daily-limit <bank> <accountId> <minor>')
    .description("set the account's daily outgoing limit in minor units, or 'none' to remove it")
    .action(async (bank: string, accountId: string, minor: string) => {
      const { client, flags } = api();
      const body = { dailyDebitLimitMinor: minor === 'none' ? null : minor };
      const answer = await client.call<Record<string, unknown>>('POST', `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}/daily-limit`, body);
      print(flags, answer.body, () => accountTable(answer.body));
    });
  for (const action of ['freeze', 'unfreeze', 'close'] as const) {
    accounts.command(`${action} <bank> <accountId>`).action(async (bank: string, accountId: string) => {
      const { client, flags } = api();
      const answer = await client.call<Record<string, unknown>>('POST', `/v1/banks/${bank}/accounts/${encodeURIComponent(accountId)}/${action}`, {});
      print(flags, answer.body, () => accountTable(answer.body));
    });
  }
  addReconciliationCommands(root, api, print);
  return root;
}

program()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof TransferApiError) console.error(`error ${error.status} ${error.code}: ${error.message}`);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
