/**
 * The ratio chart of a run (bench/results.svg): one horizontal bar per scenario, throughput as a
 * fraction of `bare` measured in the same run, with the target lines. Hand-written SVG.
 */
export interface ChartRow {
  name: string
  ratio: number
  cpuRatio: number
}

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function ratioChart (rows: ChartRow[], caption: string): string {
  const left = 170
  const barWidth = 480
  const rowHeight = 30
  const top = 48
  const width = left + barWidth + 90
  const height = top + rows.length * rowHeight + 52
  const x = (ratio: number): number => left + Math.min(ratio, 1.1) / 1.1 * barWidth
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Throughput as a fraction of bare (same run)</text>`,
    `<text x="${left}" y="36" fill="#555">${escape(caption)}</text>`
  ]
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`,
      `<text x="${x(tick)}" y="${top + rows.length * rowHeight + 14}" text-anchor="middle" fill="#555">${tick}</text>`)
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight
    const color = row.name === 'bare' ? '#999' : row.name.startsWith('jwt') || row.name.startsWith('signature') ? '#2b6cb0' : '#b7791f'
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escape(row.name)}</text>`,
      `<rect x="${left}" y="${y + 5}" width="${Math.max(1, x(row.ratio) - left)}" height="12" fill="${color}"/>`,
      `<rect x="${left}" y="${y + 19}" width="${Math.max(1, x(row.cpuRatio) - left)}" height="5" fill="${color}" opacity="0.45"/>`,
      `<text x="${x(row.ratio) + 6}" y="${y + 16}">${row.ratio.toFixed(2)}</text>`)
  })
  for (const [target, label] of [[0.9, 'jwt-cached target 0.90'], [0.75, 'signature-hmac target 0.75']] as const) {
    parts.push(`<line x1="${x(target)}" y1="${top - 4}" x2="${x(target)}" y2="${top + rows.length * rowHeight}" stroke="#c53030" stroke-dasharray="4 3"/>`,
      `<text x="${x(target)}" y="${top + rows.length * rowHeight + 28}" text-anchor="middle" fill="#c53030" font-size="10">${label}</text>`)
  }
  parts.push(`<text x="${left}" y="${height - 6}" fill="#555" font-size="10">thick bar: requests/s ratio; thin bar: CPU ratio (bare CPU µs per request / scenario CPU µs per request)</text>`,
    '</svg>', '')
  return parts.join('\n')
}
