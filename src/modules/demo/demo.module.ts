import { Logger, Module } from '@nestjs/common';
import { DemoController } from './demo.controller.js';
import { DEMO_PUBLIC_DIR, DEMO_VENDOR_MODULES } from './demo.tokens.js';
import { findPublicDir } from './public-dir.js';
import { resolveVendorModules } from './vendor-modules.js';

/**
 * The demo TPP page at `/` (public/index.html, app.css, the ES modules in public/js/, the typed
 * client's runtime under /js/vendor/) and `/demo/config.json`.
 * AppModule imports it in sandbox mode only, so in production these routes do not exist.
 * The page uses nothing but the public /api/v1 contract: it is also the reference client.
 */
@Module({
  controllers: [DemoController],
  providers: [
    {
      provide: DEMO_PUBLIC_DIR,
      useFactory: () => {
        const dir = findPublicDir();
        if (!dir) new Logger('DemoModule').warn('public/index.html not found: the demo page is not served');
        return dir;
      },
    },
    {
      provide: DEMO_VENDOR_MODULES,
      useFactory: () =>
        resolveVendorModules((pkg, error) =>
          new Logger('DemoModule').warn(
            `${pkg} cannot be served to the demo page, which cannot work without it: ${error instanceof Error ? error.message : String(error)}`,
          ),
        ),
    },
  ],
})
export class DemoModule {}
