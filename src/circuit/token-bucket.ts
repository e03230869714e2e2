// A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Time is passed in (ms), so
// the bucket is a pure value that tests drive with fake time.
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#at = now;
  }

  /** Whether one token is there now (without taking it). */
  has(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Takes one token; false (and nothing taken) when there is none. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Full again: the bucket holds nothing a fresh one would not (it may be forgotten). */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }

  #refill(now: number): void {
    // A clock that steps back refills nothing (and does not take tokens either).
    if (now > this.#at)
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#ratePerMs);
    this.#at = Math.max(this.#at, now);
  }
}
