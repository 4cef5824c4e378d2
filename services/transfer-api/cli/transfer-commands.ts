import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { formatTable } from '../../../infra/terminal';
import { terminalTransferStatuses } from '../../../lib/contracts/transfer-contract';
import type { TransferView } from '../schemas';
import type { Api, Print } from './command-context';

const watchIntervalMsDefault = 1_000;

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

/** create, get, list, the operator decisions, repair and watch. */
export function addTransferCommands(root: Command, api: Api, print: Print): void {
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

  addOperatorCommands(root, api, print);
}

/** approve, reject, cancel and repair, and watch: following one transfer until it ends. */
function addOperatorCommands(root: Command, api: Api, print: Print): void {
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
}
