/** DI token: the folder the demo page is served from (undefined when it is not shipped). */
export const DEMO_PUBLIC_DIR = Symbol('DEMO_PUBLIC_DIR');
