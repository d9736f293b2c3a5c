/**
 * Identical concurrent work done once: while `run(key, work)` is in flight, further calls with the
 * same key get the same promise (its value or its error) instead of starting the work again. Once
 * it settles the next call starts afresh — nothing is cached. In-process only: across replicas the
 * banks' own limits apply (see StatusPace for status reads).
 */
export class SingleFlight {
  private readonly running = new Map<string, Promise<unknown>>();

  /** `onJoin` is told when a call is answered by work another call started (for metrics). */
  run<T>(key: string, work: () => Promise<T>, onJoin?: () => void): Promise<T> {
    const existing = this.running.get(key);
    if (existing) {
      onJoin?.();
      return existing as Promise<T>;
    }
    const flight = work().finally(() => {
      if (this.running.get(key) === flight) this.running.delete(key);
    });
    this.running.set(key, flight);
    return flight;
  }

  get size(): number {
    return this.running.size;
  }
}
