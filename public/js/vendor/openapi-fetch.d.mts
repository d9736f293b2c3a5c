/*
 * The types of /js/vendor/openapi-fetch.mjs, which the BFF serves from the installed openapi-fetch
 * package (src/modules/demo/vendor-modules.ts): the same package, so the same types.
 */
export { default } from 'openapi-fetch';
export type * from 'openapi-fetch';
