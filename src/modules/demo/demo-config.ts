import { ApiProperty } from '@nestjs/swagger';
import type { AppConfig } from '../../config/app.config.js';
import type { BanksConfig } from '../../config/banks.config.js';

/** What the demo page needs to know that the API does not tell it. */
export class DemoConfigView {
  @ApiProperty({ description: "The sandbox ASPSP as the PSU's browser reaches it; its PSU app is at `{sandboxUrl}/psu`", example: 'http://localhost:3100' })
  readonly sandboxUrl!: string;

  @ApiProperty({ description: 'The origin bank logins return to: the page must be opened there', example: 'http://localhost:3000' })
  readonly publicUrl!: string;
}

/**
 * SANDBOX_URL is how the BFF reaches the sandbox, which is not always how a browser does (Docker
 * Compose: `http://sandbox:3100` inside, `http://localhost:3100` outside). The banks' authorize URLs
 * are browser-facing by definition, so when they all share one origin other than SANDBOX_URL's,
 * that origin is the one to link to.
 */
export function toDemoConfigView(app: AppConfig, banks: BanksConfig): DemoConfigView {
  const sandboxOrigin = new URL(app.sandboxUrl).origin;
  const authorizeOrigins = new Set(banks.banks.map((b) => new URL(b.authorizeUrl).origin));
  const browserFacing = !authorizeOrigins.has(sandboxOrigin) && authorizeOrigins.size === 1 ? [...authorizeOrigins][0] : app.sandboxUrl;
  return { sandboxUrl: browserFacing, publicUrl: app.publicUrl };
}
