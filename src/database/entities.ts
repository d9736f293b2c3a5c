import { Connection } from '../modules/connections/connection.entity.js';

/** Every entity, listed per module as they are added. */
export const ENTITIES: (new (...args: never[]) => object)[] = [Connection];
