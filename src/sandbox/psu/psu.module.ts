import { Module } from '@nestjs/common';
import { BerlinGroupModule } from '../berlin-group/berlin-group.module.js';
import { HomeController } from './home.controller.js';
import { PsuController } from './psu.controller.js';
import { PsuService } from './psu.service.js';

@Module({ imports: [BerlinGroupModule], controllers: [PsuController, HomeController], providers: [PsuService] })
export class PsuModule {}
