import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import { accountServiceLimits } from '../limits';

function commandKey(event: { connectionId?: string | number; requestId: number }): string {
  return `${String(event.connectionId)}:${event.requestId}`;
}

/**
 * A CLIENT span per database command, from the driver's command monitoring (the client must be
 * created with `monitorCommands: true`). The driver emits `commandStarted` in the async context of
 * the operation, so the span's parent is the HTTP request's span. Only commands inside a trace get a
 * span (no root spans for pool pings). Names and attributes carry the command and collection, never
 * the command's documents, which hold account data. Group commit decides a batch of operations in
 * the context of the request that started the batch, so the commands of a shared batch appear under
 * that request's span.
 */
export function traceDatabaseCommands(client: MongoClient, tracer: Tracer): void {
  const open = new Map<string, Span>();
  client.on('commandStarted', (event: CommandStartedEvent) => {
    const parent = context.active();
    if (!trace.getSpan(parent)?.isRecording() || open.size >= accountServiceLimits.tracedCommandsMax) return;
    const collection = event.command[event.commandName] as unknown;
    const span = tracer.startSpan(
      `mongodb.${event.commandName}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system': 'mongodb',
          'db.name': event.databaseName,
          'db.operation': event.commandName,
          ...(typeof collection === 'string' ? { 'db.mongodb.collection': collection } : {}),
        },
      },
      parent,
    );
    open.set(commandKey(event), span);
  });
  const finish = (event: CommandSucceededEvent | CommandFailedEvent, failure?: Error): void => {
    const key = commandKey(event);
    const span = open.get(key);
    if (!span) return;
    open.delete(key);
    if (failure) span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    span.end();
  };
  client.on('commandSucceeded', (event: CommandSucceededEvent) => finish(event));
  client.on('commandFailed', (event: CommandFailedEvent) => finish(event, event.failure));
}
