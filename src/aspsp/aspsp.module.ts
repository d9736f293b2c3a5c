import { Module } from '@nestjs/common';
import { AspspRegistry } from './aspsp.registry.js';

/** The configured banks' adapters (`AspspRegistry`); imported by every module that calls a bank. */
@Module({ providers: [AspspRegistry], exports: [AspspRegistry] })
export class AspspModule {}
