import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ConfigFaultsService, type ConfigFaults } from '../faults/config-faults.service.js';
import { FaultsService, type FaultRule } from '../faults/faults.service.js';
import { QuirksService } from '../faults/quirks.service.js';
import { isProfile, type Profile } from '../config.js';
import type { BankModes } from '../modes/bank-modes.js';
import { BankModesService } from '../modes/bank-modes.service.js';
import { parseConfigFaults, parseFaultRule, parseLinkStyle, parseModesBody, parseTokenQuirks } from './admin-input.js';

/** How the banks behave: fault rules, configuration faults, per-bank modes and quirks (JSON). */
@Controller('admin')
export class KnobsController {
  constructor(
    private readonly faults: FaultsService,
    private readonly configFaults: ConfigFaultsService,
    private readonly modes: BankModesService,
    private readonly quirks: QuirksService,
  ) {}

  @Get('faults')
  listFaults(): { faults: FaultRule[] } {
    return { faults: this.faults.list() };
  }

  @Post('faults')
  @HttpCode(200)
  addFault(@Body() body: unknown): { faults: FaultRule[] } {
    this.faults.set(parseFaultRule(body));
    return this.listFaults();
  }

  @Delete('faults')
  @HttpCode(204)
  clearFaults(): void {
    this.faults.clear();
  }

  @Get('config-faults')
  listConfigFaults(): { configFaults: Record<Profile, ConfigFaults> } {
    return { configFaults: this.configFaults.all() };
  }

  /** e.g. `{profile:"flowe", subscriptionKeyRotated:true}`; fields left out keep their state. */
  @Post('config-faults')
  @HttpCode(200)
  setConfigFaults(@Body() body: unknown): { configFaults: Record<Profile, ConfigFaults> } {
    const { profile, faults } = parseConfigFaults(body);
    this.configFaults.set(profile, faults);
    return this.listConfigFaults();
  }

  /** Restores every configuration fault (`?profile=` for one bank). */
  @Delete('config-faults')
  @HttpCode(204)
  clearConfigFaults(@Query('profile') profile: unknown): void {
    this.configFaults.reset(isProfile(profile) ? profile : undefined);
  }

  @Get('modes')
  listModes(): { modes: Record<Profile, BankModes> } {
    return { modes: this.modes.all() };
  }

  /** e.g. `{profile:"flowe", budgetCounting:"per_resource"}`; fields left out keep their value. */
  @Post('modes')
  @HttpCode(200)
  setModes(@Body() body: unknown): { modes: Record<Profile, BankModes> } {
    const { profile, modes } = parseModesBody(body);
    this.modes.set(profile, modes);
    return this.listModes();
  }

  /** Back to the modes the sandbox was started with. */
  @Delete('modes')
  @HttpCode(204)
  resetModes(): void {
    this.modes.reset();
  }

  @Post('token-quirks')
  @HttpCode(200)
  tokenQuirks(@Body() body: unknown) {
    const { profile, quirks } = parseTokenQuirks(body);
    this.quirks.setTokenQuirks(profile, quirks);
    return { profile, tokenQuirks: quirks };
  }

  @Post('link-quirks')
  @HttpCode(200)
  linkQuirks(@Body() body: unknown) {
    const { profile, style } = parseLinkStyle(body);
    this.quirks.setLinkStyle(profile, style);
    return { profile, linkStyle: style };
  }
}
