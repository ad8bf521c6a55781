/**
 * Deadlines for store calls without a timer per call: calls with the same timeout expire in the
 * order they started, so one queue per timeout and one timer for its oldest unsettled call do.
 * A store call that settles marks its entry; settled entries at the front are dropped at once.
 * The timer is not cleared when the queue empties (a cache miss after a miss would otherwise
 * arm a new one each time): it is unref'd then (an idle process may exit), ref'd again by the
 * next call, and when it fires it expires what is due and is armed again for the oldest call left.
 */

export interface Deadline {
  readonly at: number
  settled: boolean
  readonly expire: () => void
}

class DeadlineQueue {
  readonly #timeoutMs: number
  #entries: Deadline[] = []
  #head = 0
  #timer: NodeJS.Timeout | null = null
  #refed = false

  constructor (timeoutMs: number) {
    this.#timeoutMs = timeoutMs
  }

  add (expire: () => void): Deadline {
    const entry: Deadline = { at: performance.now() + this.#timeoutMs, settled: false, expire }
    this.#entries.push(entry)
    if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#fire(), this.#timeoutMs)
    } else if (!this.#refed) {
      this.#timer.ref()
    }
    this.#refed = true
    return entry
  }

  /** The call answered (or failed) in time: its deadline no longer matters. */
  settle (entry: Deadline): void {
    entry.settled = true
    this.#dropSettled()
  }

  #dropSettled (): void {
    const entries = this.#entries
    while (this.#head < entries.length && entries[this.#head].settled) this.#head++
    if (this.#head === entries.length) {
      this.#entries = []
      this.#head = 0
      if (this.#refed) {
        this.#timer?.unref()
        this.#refed = false
      }
    } else if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head)
      this.#head = 0
    }
  }

  #fire (): void {
    this.#timer = null
    const now = performance.now()
    const entries = this.#entries
    while (this.#head < entries.length && (entries[this.#head].settled || entries[this.#head].at <= now)) {
      const entry = entries[this.#head++]
      if (entry.settled) continue
      entry.settled = true
      entry.expire()
    }
    this.#refed = false
    this.#dropSettled()
    if (this.#head < this.#entries.length) {
      this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(this.#entries[this.#head].at - now)))
      this.#refed = true
    }
  }
}

export type { DeadlineQueue }

const queues = new Map<number, DeadlineQueue>()

/** The queue of the calls that time out after `timeoutMs`. */
export function deadlinesFor (timeoutMs: number): DeadlineQueue {
  let queue = queues.get(timeoutMs)
  if (queue === undefined) {
    queue = new DeadlineQueue(timeoutMs)
    queues.set(timeoutMs, queue)
  }
  return queue
}
