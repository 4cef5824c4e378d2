import { join } from 'node:path';
import { Command } from 'commander';
import { addAccountCommands } from './account-commands';
import { createTransferApi, TransferApiError, type TransferApi } from './api-client';
import type { GlobalFlags, Print } from './command-context';
import { loadCliConfig } from './config';
import { addReconciliationCommands } from './reconciliation-commands';
import { addSettlementCommands } from './settlement-commands';
import { addTransferCommands } from './transfer-commands';

const projectRoot = join(__dirname, '..', '..', '..');

function program(): Command {
  const root = new Command('transfers')
    .description('Operator CLI of the interbank transfer API')
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--api-url <url>', 'transfer API base URL (TRANSFER_API_URL, default http://127.0.0.1:3000)')
    .option('--api-key <key>', "API key (TRANSFER_API_KEY, default the local cluster's operator key)")
    .option('--as <name>', 'act with the local cluster\'s generated key of this name (operator-2 approves what operator created)');
  const api = (): { client: TransferApi; flags: GlobalFlags } => {
    const flags = root.opts<GlobalFlags>();
    const config = loadCliConfig(flags, process.env, projectRoot);
    return { client: createTransferApi(config.apiUrl, config.apiKey), flags };
  };
  const print: Print = (flags, value, table) => {
    console.log(flags.json ? JSON.stringify(value, null, 2) : table());
  };

  addTransferCommands(root, api, print);
  addAccountCommands(root, api, print);
  addReconciliationCommands(root, api, print);
  addSettlementCommands(root, api, print);
  return root;
}

program()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof TransferApiError) console.error(`error ${error.status} ${error.code}: ${error.message}`);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
