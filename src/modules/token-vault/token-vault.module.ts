import { Module } from '@nestjs/common';
import { TokenVaultService } from './token-vault.service.js';

/** AES-256-GCM token storage. Needs the `vault` config namespace loaded (CONFIG_NAMESPACES). */
@Module({ providers: [TokenVaultService], exports: [TokenVaultService] })
export class TokenVaultModule {}
