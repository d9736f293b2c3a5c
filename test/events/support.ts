import { DataSource } from 'typeorm';
import { OutboxStore, type EventType } from '../../src/modules/events/outbox.store.js';
import type { TestBff } from '../support/bff.js';

/** Records an outbox event the way the AIS and PIS services do: in a transaction of the app. */
export async function emit(bff: TestBff, userId: string, type: EventType, data: Record<string, unknown>): Promise<void> {
  await bff.app.get(DataSource).transaction((manager) => bff.app.get(OutboxStore).record(manager, { userId, type, data }));
}

export function eventsUrl(bff: TestBff): string {
  return `${bff.url}/api/v1/events`;
}
