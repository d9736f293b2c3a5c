/** DI token: the folder the demo page is served from (undefined when it is not shipped). */
export const DEMO_PUBLIC_DIR = Symbol('DEMO_PUBLIC_DIR');

/** DI token: the installed packages' ES modules the page loads, by their name under `/js/` (`vendor/openapi-fetch.mjs`) → file. */
export const DEMO_VENDOR_MODULES = Symbol('DEMO_VENDOR_MODULES');
