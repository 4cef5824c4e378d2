import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { formatTable } from '../../../infra/terminal';
import { terminalTransferStatuses } from '../../../lib/contracts/transfer-contract';
import { answerOf, bodyOf, type ApiSchemas } from './api-client';
import type { operations } from './generated/transfer-api';
import type { Api, Print } from './command-context';

type TransferView = ApiSchemas['Transfer'];

const watchIntervalMsDefault = 1_000;
type ListTransfersQuery = NonNullable<operations['listTransfers']['parameters']['query']>;

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
      const answer = await answerOf(client.POST('/v1/transfers', { body, params: { header: { 'idempotency-key': key } } }));
      print(flags, answer.body, () => `${answer.status === 200 ? 'replayed' : 'created'} (Idempotency-Key ${key})\n${transferRows([answer.body])}`);
    });

  root
    .command('get <id>')
    .description('show a transfer with its steps')
    .action(async (id: string) => {
      const { client, flags } = api();
      const transfer = await bodyOf(client.GET('/v1/transfers/{id}', { params: { path: { id } } }));
      print(flags, transfer, () => transferDetail(transfer));
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
      const query: ListTransfersQuery = {
        // The flags are the person's text: the API validates them (400 VALIDATION_FAILED naming the field).
        limit: Number(options.limit),
        ...(options.needsAttention ? { needsAttention: 'true' as const } : {}),
        ...(options.status ? { status: options.status as ListTransfersQuery['status'] } : {}),
        ...(options.sourceBank ? { sourceBank: options.sourceBank } : {}),
        ...(options.targetBank ? { targetBank: options.targetBank } : {}),
        ...(options.account ? { account: options.account } : {}),
        ...(options.cursor ? { cursor: options.cursor } : {}),
      };
      const page = await bodyOf(client.GET('/v1/transfers', { params: { query } }));
      print(flags, page, () => `${transferRows(page.data)}${page.nextCursor ? `\n\nmore: --cursor ${page.nextCursor}` : ''}`);
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
  for (const [action, description] of Object.entries(actions) as Array<[keyof typeof actions, string]>) {
    root
      .command(`${action} <id>`)
      .description(description)
      .option('--comment <text>')
      .action(async (id: string, options: { comment?: string }) => {
        const { client, flags } = api();
        const path = `/v1/transfers/{id}/${action}` as const;
        const transfer = await bodyOf(client.POST(path, { params: { path: { id } }, body: options.comment ? { comment: options.comment } : {} }));
        print(flags, transfer, () => transferDetail(transfer));
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
        const transfer = await bodyOf(client.GET('/v1/transfers/{id}', { params: { path: { id } } }));
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
