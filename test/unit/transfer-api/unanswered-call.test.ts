import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Metadata, status } from '@grpc/grpc-js';
import { Client, Connection, ServiceError, WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { isUnansweredCall } from '../../../lib/temporal/unanswered-call';
import { TemporalTransferWorkflows } from '../../../services/transfer-api/gateways/temporal-transfer-workflows';
import { TransferNotReadyError } from '../../../services/transfer-api/gateways/transfer-workflows';

/** Built the way grpc-js builds a failed call's error: an Error carrying code, details and metadata. */
function grpcError(code: status, details: string): Error {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

/** A TCP server that accepts connections and never says a word, so every gRPC call waits for its deadline. */
async function silentServer(): Promise<{ server: Server; address: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // server.close waits for open connections, so the silent ones are cut first.
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}

describe('isUnansweredCall', () => {
  it.each([
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED],
    ['CANCELLED', status.CANCELLED],
    ['UNAVAILABLE', status.UNAVAILABLE],
  ])('recognises a bare gRPC %s error', (_name, code) => {
    expect(isUnansweredCall(grpcError(code, 'no answer'))).toBe(true);
  });

  it('recognises an unreachable server behind the client’s ServiceError', () => {
    expect(isUnansweredCall(new ServiceError('Workflow Update failed', { cause: grpcError(status.UNAVAILABLE, 'No connection established') }))).toBe(true);
  });

  it('recognises the update timeout error, also when a CancelledFailure caused it', () => {
    const timedOut = new WorkflowUpdateRPCTimeoutOrCancelledError('Deadline exceeded', { cause: grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded') });
    expect(isUnansweredCall(timedOut)).toBe(true);
    expect(isUnansweredCall(new WorkflowUpdateRPCTimeoutOrCancelledError('cancelled', { cause: new CancelledFailure('cancelled') }))).toBe(true);
  });

  it('recognises an AbortSignal timeout and abort by name', async () => {
    const timeout = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isUnansweredCall(timeout.reason)).toBe(true);
    const controller = new AbortController();
    controller.abort();
    expect(isUnansweredCall(controller.signal.reason)).toBe(true);
  });

  it.each([
    ['a refused call (NOT_FOUND)', grpcError(status.NOT_FOUND, 'workflow not found')],
    ['a refused call behind ServiceError (INVALID_ARGUMENT)', new ServiceError('Workflow Update failed', { cause: grpcError(status.INVALID_ARGUMENT, 'bad request') })],
    ['a missing workflow', new WorkflowNotFoundError('not found', 'transfer-1', undefined)],
    // The old message match took these for timeouts; the type says otherwise.
    ['an error whose message only mentions a deadline', new Error('the approval deadline was cancelled')],
    ['a plain string', 'DEADLINE_EXCEEDED'],
    ['undefined', undefined],
  ])('does not take %s for a missing answer', (_name, error) => {
    expect(isUnansweredCall(error)).toBe(false);
  });

  it('stops on a cyclic cause chain', () => {
    const first = new Error('first') as Error & { cause?: unknown };
    first.cause = new Error('second', { cause: first });
    expect(isUnansweredCall(first)).toBe(false);
  });
});

describe('TemporalTransferWorkflows.decide without an answer from Temporal', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let connection: Connection;

  beforeAll(async () => {
    silent = await silentServer();
    connection = Connection.lazy({ address: silent.address });
  });

  afterAll(async () => {
    await connection.close();
    await silent.close();
  });

  it('reports the real client’s deadline error as an unanswered call', async () => {
    const client = new Client({ connection });
    const call = connection.withDeadline(Date.now() + 200, () => client.workflow.getHandle('transfer-1').executeUpdate('approve'));
    const error: unknown = await call.then(() => undefined, (rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(WorkflowUpdateRPCTimeoutOrCancelledError);
    expect(isUnansweredCall(error)).toBe(true);
  });

  it('answers TransferNotReadyError when the update passes its deadline', async () => {
    const workflows = new TemporalTransferWorkflows({
      client: new Client({ connection }),
      namespace: 'default',
      taskQueue: 'transfers',
      workerAnswerTimeoutMs: 200,
      authorityKey: { keyId: 'test-1', secret: 'a test secret that is long enough' },
    });
    await expect(workflows.decide('transfer-1', 'approve', { operator: 'ops' })).rejects.toBeInstanceOf(TransferNotReadyError);
  });
});
