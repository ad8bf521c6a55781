/**
 * The in-memory webhook backend (any store that is not a PostgresStore): the receive log and the
 * outbox in this process, jobs on timers (MemoryJobs). Nothing survives a restart.
 */
import { MemoryJobs } from '../jobs/memory-jobs.js'
import { MemoryReceiveLog } from '../receive/memory-log.js'
import { MemoryOutbox } from '../send/memory-outbox.js'
import type { LinkedWebhooksBackend } from './backend.js'

export interface MemoryBackendOptions {
  /** Told about a job whose handler threw (the log could not be read or written). */
  onError?: (error: unknown) => void
}

export function createMemoryBackend (options: MemoryBackendOptions = {}): LinkedWebhooksBackend {
  const jobs = new MemoryJobs({ onError: options.onError })
  const received = new MemoryReceiveLog({ jobs })
  const outbox = new MemoryOutbox({ jobs })
  return {
    kind: 'memory',
    jobs,
    received,
    outbox,
    async start () {
      await jobs.start()
    },
    async stop () {
      await jobs.stop()
    }
  }
}
