import { Global, Module } from '@nestjs/common';
import { AspspRegistry } from './aspsp.registry.js';

@Global()
@Module({ providers: [AspspRegistry], exports: [AspspRegistry] })
export class AspspModule {}
