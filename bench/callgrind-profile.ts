/**
 * Where a path's instructions go: the functions of a callgrind dump by their own (exclusive)
 * count, with V8's JIT code named. callgrind knows only the native symbols; the JIT code is bare
 * addresses (`???:0x…`), which the process's perf map (`node --perf-basic-prof`, written to
 * /tmp/perf-<pid>.map) names: each line is `<start hex> <size hex> <name>`.
 * `npm run bench -- --instructions --profile` prints it for every path.
 */

export interface ProfileRow {
  /** Instructions per call spent in the function itself. */
  perCall: number
  name: string
}

interface MapEntry {
  start: number
  end: number
  name: string
}

/** The perf map's entries, sorted by start address. */
export function parsePerfMap (text: string): MapEntry[] {
  const entries: MapEntry[] = []
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/.exec(line)
    if (match === null) continue
    const start = parseInt(match[1], 16)
    entries.push({ start, end: start + parseInt(match[2], 16), name: match[3] })
  }
  return entries.sort((a, b) => a.start - b.start)
}

/** The entry holding `address`; the map holds no overlaps worth caring about, so the last start at or before it. */
function entryAt (entries: MapEntry[], address: number): MapEntry | undefined {
  let low = 0
  let high = entries.length - 1
  let found: MapEntry | undefined
  while (low <= high) {
    const middle = (low + high) >> 1
    if (entries[middle].start <= address) {
      found = entries[middle]
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  return found !== undefined && address < found.end ? found : undefined
}

const JIT_ADDRESS = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/
const COUNT_LINE = /^\s*([\d,]+) (?:\([^)]*\)\s+)?(.+?)\s*$/

/**
 * The `n` costliest functions of a dump, per call: `annotated` is callgrind_annotate's output
 * (exclusive counts, the default), `calls` the calls in the window. Functions that share a name
 * once the JIT code is named (several pieces of one function's code) are summed. The frames
 * that were on the stack all along (main, the event loop) are listed with the whole window's
 * count; they are left out.
 */
export function topFunctions (annotated: string, perfMap: string, calls: number, n = 15): ProfileRow[] {
  const entries = parsePerfMap(perfMap)
  const byName = new Map<string, number>()
  const totals = /^\s*([\d,]+) .*PROGRAM TOTALS/m.exec(annotated)
  const total = totals === null ? Infinity : Number(totals[1].replace(/,/g, ''))
  let inTable = false
  for (const line of annotated.split('\n')) {
    if (line.includes('file:function')) {
      inTable = true
      continue
    }
    const match = inTable ? COUNT_LINE.exec(line) : null
    if (match === null) continue
    const count = Number(match[1].replace(/,/g, ''))
    if (count >= total * 0.99) continue
    const jit = JIT_ADDRESS.exec(match[2])
    const name = jit === null ? match[2] : entryAt(entries, parseInt(jit[1], 16))?.name ?? `JIT code at 0x${jit[1]} (not in the perf map)`
    byName.set(name, (byName.get(name) ?? 0) + count)
  }
  return [...byName].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, count]) => ({ perCall: Math.round(count / calls), name }))
}
