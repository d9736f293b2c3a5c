import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The owner of `bank_status_reads`: when each bank resource's status was last asked, by any replica. */
@Injectable()
export class StatusReadStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes the right to ask the bank for `key`'s status now, in one statement: `claimed` (and the
   * time is recorded) when nobody asked in the last `minIntervalMs`, by the database's clock, so
   * every replica sees the same answer; otherwise `waitMs`, how long until the interval ends.
   */
  async claim(key: string, minIntervalMs: number): Promise<{ claimed: true } | { claimed: false; waitMs: number }> {
    const [row]: { claimed: boolean; wait_ms: number | null }[] = await this.dataSource.query(
      `WITH previous AS (SELECT read_at FROM bank_status_reads WHERE resource_key = $1),
            taken AS (
              INSERT INTO bank_status_reads (resource_key, read_at) VALUES ($1, clock_timestamp())
              ON CONFLICT (resource_key) DO UPDATE SET read_at = clock_timestamp()
                WHERE bank_status_reads.read_at <= clock_timestamp() - make_interval(secs => $2::double precision / 1000)
              RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM taken) AS claimed,
              (SELECT extract(epoch FROM read_at + make_interval(secs => $2::double precision / 1000) - clock_timestamp()) * 1000 FROM previous) AS wait_ms`,
      [key.slice(0, 300), minIntervalMs],
    );
    if (row?.claimed) return { claimed: true };
    return { claimed: false, waitMs: Math.max(0, Math.ceil(Number(row?.wait_ms ?? minIntervalMs))) };
  }

  /** Forgets resources not asked for a day (housekeeping). */
  async prune(): Promise<void> {
    await this.dataSource.query("DELETE FROM bank_status_reads WHERE read_at < now() - interval '1 day'");
  }
}
