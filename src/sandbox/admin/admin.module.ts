import { Module } from '@nestjs/common';
import { BerlinGroupModule } from '../berlin-group/berlin-group.module.js';
import { AdminController } from './admin.controller.js';
import { KnobsController } from './knobs.controller.js';

@Module({ imports: [BerlinGroupModule], controllers: [AdminController, KnobsController] })
export class AdminModule {}
