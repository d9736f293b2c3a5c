import { OUTBOX_ID, OUTBOX_WRITING, outboxWatermark, type OutboxLock } from '../../src/modules/events/outbox-watermark.js';

const writing = (pid: number): OutboxLock => ({ pid, key: OUTBOX_WRITING, low: 0 });
const holding = (pid: number, id: bigint): OutboxLock => ({ pid, key: OUTBOX_ID, low: Number(id % 2n ** 32n) });

describe('the outbox watermark', () => {
  it('is just above the last id drawn when no writer is in flight', () => {
    expect(outboxWatermark(266n, [])).toBe(267n);
    expect(outboxWatermark(0n, [])).toBe(1n);
  });

  it('stops at the oldest id still in flight, whatever was drawn after it', () => {
    expect(outboxWatermark(266n, [writing(11), holding(11, 263n), writing(12), holding(12, 265n)])).toBe(263n);
  });

  it('counts a writer with several rows by its first', () => {
    expect(outboxWatermark(300n, [writing(11), holding(11, 290n), holding(11, 296n)])).toBe(290n);
  });

  it('is unknown while a writer has announced itself but not yet drawn its id', () => {
    expect(outboxWatermark(266n, [writing(11)])).toBeUndefined();
    expect(outboxWatermark(266n, [writing(11), holding(11, 263n), writing(12)])).toBeUndefined();
    // A writer drawing its second id is already held back by its first.
    expect(outboxWatermark(266n, [writing(11), holding(11, 263n)])).toBe(263n);
  });

  it('ignores ids drawn after the sequence was read: they are above it anyway', () => {
    expect(outboxWatermark(266n, [writing(11), holding(11, 270n)])).toBe(267n);
  });

  it('recovers full ids from their low 32 bits around the sequence value, across the 2^32 boundary', () => {
    const big = 2n ** 32n * 5n + 3n;
    expect(outboxWatermark(big, [writing(1), holding(1, big - 5n)])).toBe(big - 5n);
    expect(outboxWatermark(big + 10n, [writing(1), holding(1, big + 12n)])).toBe(big + 11n);
    expect(outboxWatermark(2n ** 32n + 1n, [writing(1), holding(1, 2n ** 32n - 2n)])).toBe(2n ** 32n - 2n);
  });
});
