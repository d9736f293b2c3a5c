import type { Child } from './children.js';
import type { BenchDatabase } from './database.js';
import type { NginxAnchor } from './nginx.js';
import type { Options } from './options.js';
import type { Bff, Server, Workspace } from './servers.js';
import type { BankSession, BffUser } from './world.js';

/** What every scenario gets: the processes of the run and lazily seeded data. */
export interface Context {
  options: Options;
  ws: Workspace;
  db: BenchDatabase;
  sandbox: Server;
  bff: Bff;
  bare: Server;
  /** Absent when nginx is not installed. */
  nginx?: NginxAnchor;
  /** One user with a valid consent, its accounts and transactions stored. */
  primary(): Promise<BffUser>;
  /** `options.consents` users, each with a valid consent of its own (attended reads spread over them). */
  spread(): Promise<BffUser[]>;
  /** As many direct sessions at the bank (token + approved consent), for the anchors. */
  bankSessions(): Promise<BankSession[]>;
  /** Windows (ms since the BFF's start) when load was on the main BFF, per scenario: the profile is cut to them. */
  bffWindows: Map<string, [number, number][]>;
  /** Every process that serves HTTP, for the RSS table. */
  servers(): { label: string; child: Child }[];
  log(message: string): void;
}
