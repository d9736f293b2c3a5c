import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { createHttpAdapter } from '../configure-app.js';
import { createOpenApiDocument } from '../openapi/openapi-document.js';

/**
 * `npm run openapi`: writes the API's OpenAPI document to specs/tpp-bff.openapi.json, so a change
 * to the contract shows in review (a test compares it with what the server serves). Nest's preview
 * mode reads the routes and their decorators without creating any provider: no database is needed.
 * The sandbox-mode routes (the demo login and page) are part of the document.
 */
export const OPENAPI_FILE = 'specs/tpp-bff.openapi.json';

const app = await NestFactory.create(AppModule.forRoot({ env: { APP_MODE: 'sandbox' }, databaseUrl: 'postgres://127.0.0.1:1/unused' }), createHttpAdapter(), {
  preview: true,
  logger: false,
  abortOnError: false,
});
writeFileSync(process.argv[2] ?? OPENAPI_FILE, `${JSON.stringify(createOpenApiDocument(app), null, 2)}\n`);
await app.close();
console.log(`Wrote ${process.argv[2] ?? OPENAPI_FILE}`);
