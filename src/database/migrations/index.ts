import type { MigrationInterface } from 'typeorm';

/** Migrations run in this order at start-up and by `npm run migration:run`. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [];
