/**
 * Naming where a path's instructions go (bench/callgrind-profile.ts): callgrind_annotate's
 * exclusive counts, V8's JIT code named from its perf map, pieces of one function summed, the
 * frames that span the whole window left out, and an address the map does not hold said so.
 */
import { strict as assert } from 'node:assert'
import { test } from 'node:test'
import { parsePerfMap, topFunctions } from '../bench/callgrind-profile.js'

// The shape of callgrind_annotate 3.19's output (trimmed): the totals, then one function a line.
const ANNOTATED = `--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
10,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
10,000,000 (100.0%)  ???:main [/usr/bin/node]
 9,950,000 (99.50%)  ???:node::SpinEventLoopInternal(node::Environment*) [/usr/bin/node]
 3,000,000 (30.00%)  ???:sha256_block_data_order_avx2 [/usr/bin/node]
 2,000,000 (20.00%)  ???:0x000000000d0f21c0 [???]
 1,500,000 (15.00%)  ???:0x000000000d0f2300 [???]
   900,000 ( 9.00%)  ???:0x000000000d200000 [???]
   600,000 ( 6.00%)  ???:0x0000000000000010 [???]
   100,000 ( 1.00%)  ./malloc/./malloc/malloc.c:malloc [/usr/lib/x86_64-linux-gnu/libc.so.6]
`

// Two pieces of decodeJws's code (its optimized code and an OSR entry) and a RegExp's code.
const PERF_MAP = `d0f2000 400 JS:*decodeJws dist/plugin/jwt/decode.js:56:19
d200000 100 RegExp:^[A-Za-z0-9_-]+$
not a map line
d0f2200 200 JS:*decodeJws dist/plugin/jwt/decode.js:56:19
`

test('the perf map is read as sorted address ranges, other lines ignored', () => {
  const entries = parsePerfMap(PERF_MAP)
  assert.deepEqual(entries.map((e) => e.start), [0xd0f2000, 0xd0f2200, 0xd200000])
  assert.equal(entries[0].end, 0xd0f2400)
  assert.equal(entries[2].name, 'RegExp:^[A-Za-z0-9_-]+$')
})

test('the costliest functions per call, JIT code named and summed, whole-window frames left out', () => {
  const rows = topFunctions(ANNOTATED, PERF_MAP, 1000)
  assert.deepEqual(rows, [
    { perCall: 3500, name: 'JS:*decodeJws dist/plugin/jwt/decode.js:56:19' },
    { perCall: 3000, name: '???:sha256_block_data_order_avx2 [/usr/bin/node]' },
    { perCall: 900, name: 'RegExp:^[A-Za-z0-9_-]+$' },
    { perCall: 600, name: 'JIT code at 0x0000000000000010 (not in the perf map)' },
    { perCall: 100, name: './malloc/./malloc/malloc.c:malloc [/usr/lib/x86_64-linux-gnu/libc.so.6]' }
  ])
  assert.equal(topFunctions(ANNOTATED, PERF_MAP, 1000, 2).length, 2)
})

test('an address past the end of the last range before it is not named after that range', () => {
  // 0xd0f21c0 is inside the first range; 0xd0f2400 is just past the second piece's end.
  const annotated = ANNOTATED.replace('0x000000000d0f2300', '0x000000000d0f2400')
  const names = topFunctions(annotated, PERF_MAP, 1000).map((row) => row.name)
  assert.ok(names.includes('JIT code at 0x000000000d0f2400 (not in the perf map)'))
})
