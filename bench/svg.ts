/**
 * The chart of a run (bench/results.svg): one horizontal bar per scenario, the server CPU it adds
 * per request over bare (bench/targets.ts addedInterval) in the same run, in µs; this plugin's
 * scenarios in blue, the peers in amber. Hand-written SVG: a dozen bars need no charting library.
 */
export interface ChartRow {
  name: string
  addedCpuUs: number
}

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

const PEERS = /^(fastify-jwt|bearer-auth|jose-|hms-)/

export function addedChart (rows: ChartRow[], caption: string): string {
  const left = 170
  const barWidth = 480
  const rowHeight = 24
  const top = 48
  const width = left + barWidth + 90
  const height = top + rows.length * rowHeight + 40
  const finite = rows.map((row) => row.addedCpuUs).filter((value) => Number.isFinite(value))
  const max = Math.max(1, ...finite)
  // A logarithmic-looking spread is hard to read; a linear axis up to the largest bar is honest.
  const x = (value: number): number => left + Math.max(0, value) / max * barWidth
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Server CPU added per request over bare (µs, same run)</text>`,
    `<text x="${left}" y="36" fill="#555">${escape(caption)}</text>`
  ]
  const step = max > 200 ? 50 : max > 50 ? 20 : max > 20 ? 5 : 1
  for (let tick = 0; tick <= max; tick += step) {
    parts.push(`<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${top + rows.length * rowHeight}" stroke="#eee"/>`,
      `<text x="${x(tick)}" y="${top + rows.length * rowHeight + 14}" text-anchor="middle" fill="#555">${tick}</text>`)
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight
    const color = PEERS.test(row.name) ? '#b7791f' : '#2b6cb0'
    const value = Number.isFinite(row.addedCpuUs) ? row.addedCpuUs : 0
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escape(row.name)}</text>`,
      `<rect x="${left}" y="${y + 5}" width="${Math.max(1, x(value) - left)}" height="12" fill="${color}"/>`,
      `<text x="${x(value) + 6}" y="${y + 15}">${value.toFixed(1)}</text>`)
  })
  parts.push(`<text x="${left}" y="${height - 6}" fill="#555" font-size="10">blue: this plugin; amber: the peers a user would pick instead</text>`, '</svg>', '')
  return parts.join('\n')
}
