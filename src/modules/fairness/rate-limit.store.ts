import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface WindowCount {
  key: string;
  /** Window start, ms since the epoch. */
  windowStart: number;
  hits: number;
}

/** The owner of `api_rate_limits`: per-user request counts per fixed window, shared by every replica. */
@Injectable()
export class RateLimitStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds each replica-local count to the shared one, in one statement, and returns the shared totals. */
  async add(counts: WindowCount[]): Promise<WindowCount[]> {
    if (counts.length === 0) return [];
    const rows: { key: string; w: string; hits: number }[] = await this.dataSource.query(
      `INSERT INTO api_rate_limits (key, window_start, hits)
       SELECT k, to_timestamp(w / 1000.0), h FROM unnest($1::text[], $2::bigint[], $3::int[]) AS t(k, w, h)
       ON CONFLICT (key, window_start) DO UPDATE SET hits = api_rate_limits.hits + EXCLUDED.hits
       RETURNING key, round(extract(epoch FROM window_start) * 1000)::bigint AS w, hits`,
      [counts.map((c) => c.key), counts.map((c) => c.windowStart), counts.map((c) => c.hits)],
    );
    return rows.map((r) => ({ key: r.key, windowStart: Number(r.w), hits: r.hits }));
  }

  /** Drops windows that ended before `before` (ms since the epoch). */
  async prune(before: number): Promise<void> {
    await this.dataSource.query('DELETE FROM api_rate_limits WHERE window_start < to_timestamp($1 / 1000.0)', [before]);
  }
}
