import { Module } from '@nestjs/common';
import { OpsServer } from './ops-server.js';

/** The ops listener (OPS_PORT). Who may reach the ops surface is `opsAccess`, in the HTTP pipeline. */
@Module({ providers: [OpsServer] })
export class OpsModule {}
